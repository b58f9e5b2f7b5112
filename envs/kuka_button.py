"""Kuka button: a Kuka iiwa arm must reach and press a button on a table, seen through a fixed camera.

The robotics task of the S-RL Toolbox rebuilt on ``pybullet`` directly (DIRECT mode: no window, no
GPU), with the Gymnasium API. Each env instance owns its own PyBullet client, so several instances
can live in one process or in worker processes without sharing a simulation.

Scene (world frame: metres, z up, z = 0 on the table top): a Kuka iiwa with a WSG-50 gripper, held
closed and pointing down, stands on a pedestal beside the table (base at ``ROBOT_BASE_POSITION``,
0.25 m above the table top, so the button's whole rectangle is inside the arm's reach with the
gripper vertical). The table's near edge is at x = 0.15. A red push button
(``envs/assets/button.urdf``: a cap on a short prismatic joint in a dark housing) sits at
(0.55, 0) or, with ``random_target=True``, anywhere in x ∈ 0.55 ± 0.15, y ∈ ± 0.3. The camera
looks down at 35° over the table's far corner towards the robot; the image is rendered by
``ER_TINY_RENDERER`` at the observation size, the arm from simplified meshes (``arm_mesh``).

Control moves the gripper's tool point (between the closed fingertips, at their ends) by ``STEP``
= 3 cm per step through inverse kinematics, with Gaussian noise on every move: ``Discrete(6)``
(+x, -x, +y, -y, +z, -z, see ``ACTION_MEANINGS``) or, with ``continuous=True``,
``Box(-1, 1, (3,))`` scaled to the same step (values outside [-1, 1] are clipped).

Reward: +1 on each step that ends with the gripper touching the button's cap (a "press"); -1 and
termination when the gripper touches the table or its tool point leaves the sphere of radius
``SAFETY_RADIUS`` around the button's top. The episode terminates after ``PRESSES_TO_WIN`` presses
and truncates after ``max_steps`` steps. Each reset puts the arm in its home pose above the default
button position, then makes ``RESET_RANDOM_MOVES`` random moves.

Ground truth (``info["state"]``, float32, named in ``state_names``): the tool point relative to the
button's top centre (dx, dy, dz), then the button's absolute (x, y). ``info["presses"]`` counts
the presses so far. Every entry is continuous for the metrics. ``ReachButtonPolicy`` is a scripted
policy that presses the button from the ground truth; ``NoisyReachButtonPolicy`` adds random
actions; ``ExploreButtonPolicy`` wanders over the workspace between random waypoints and presses
now and then: the one to collect datasets with (``scripts/kuka_coverage.py`` measures what each
covers).

The task's rules, state and differences from its original specification: ``docs/robot_arm.md``.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import os
import sys
from importlib import resources
from typing import Any, Iterator

import gymnasium as gym
import numpy as np
from gymnasium import spaces


@contextlib.contextmanager
def _silenced(fd: int) -> Iterator[None]:
    """Send what C code writes to file descriptor ``fd`` (1 stdout, 2 stderr) to /dev/null meanwhile.

    PyBullet prints banners with C ``printf`` (``pybullet build time`` on import, ``argv[0]=`` on
    connect), which Python's own redirection cannot catch; where the descriptor cannot be duplicated
    (no real stdout/stderr), nothing is silenced.
    """
    stream = sys.stdout if fd == 1 else sys.stderr
    try:
        stream.flush()
        saved = os.dup(fd)
    except (OSError, ValueError, AttributeError):
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        yield
        try:
            ctypes.CDLL(None).fflush(None)  # push C-buffered lines out while they go nowhere
        except (OSError, AttributeError, TypeError):
            pass
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


with _silenced(1), _silenced(2):
    import pybullet
    import pybullet_data
    from pybullet_utils import bullet_client

from srl_bench.envs._arm_mesh import ARM_SDF, simplified_arm_sdf
from srl_bench.envs._common import FrameEnv, image_space, parse_image_size

STEP = 0.03  # metres the tool point moves per action
MOVE_NOISE_STD = 0.003  # metres, per axis, added to every move
SAFETY_RADIUS = 0.4  # the tool point must stay this close to the button
PRESSES_TO_WIN = 5
DEFAULT_BUTTON_XY = (0.55, 0.0)
RANDOM_BUTTON_HALF_EXTENT = (0.15, 0.3)  # button drawn in DEFAULT_BUTTON_XY ± this when random_target
BUTTON_TOP_Z = 0.04  # height of the unpressed cap's top above the table
HOME_TOOL_POSITION = (0.55, 0.0, 0.17)
RESET_RANDOM_MOVES = 5  # random moves from the home pose at each reset
RESET_MIN_TOOL_HEIGHT = 0.1  # reset moves keep the tool point at least this high above the table

SIM_TIMESTEP = 1.0 / 240.0
SUBSTEPS_PER_ACTION = 20

# camera: looks over the table's far corner at the robot, 35 degrees down; the whole safety sphere
# around the default button is in view (and ~98% of it for the random-target extremes)
CAMERA_TARGET = (0.55, 0.0, 0.2)
CAMERA_DISTANCE = 1.5
CAMERA_YAW = 45.0
CAMERA_PITCH = -35.0
CAMERA_FOV = 50.0

ROBOT_BASE_POSITION = (-0.12, 0.0, 0.25)  # on a pedestal beside the table, above the table top
GRIPPER_BASE_LINK = 7  # the gripper's base link in the Kuka model; the tool point hangs off it
# the tool point in the gripper base link's frame: between the closed fingertips, at their ends
TOOL_OFFSET_IN_GRIPPER = (0.0, 0.022, 0.235)

_TABLE_HEIGHT = 0.625  # table.urdf's top surface above its base; the floor is this far below z = 0
_ARM_JOINTS = tuple(range(7))
_END_LINK = 6  # lbr_iiwa_link_7, the link inverse kinematics places
_GRIPPER_LINKS = tuple(range(7, 14))
_FINGER_JOINTS = (7, 8, 10, 11, 13)  # gripper rotation and finger joints, all held at 0 (closed)
_DOWN = pybullet.getQuaternionFromEuler((0.0, -math.pi, 0.0))
# a folded, gripper-down posture to start inverse kinematics from
_SEED_POSTURE = (0.0, 0.35, 0.0, -1.9, 0.0, 0.9, 0.0)
_BUTTON_CAP_LINK = 0  # the cap, on the button's one (prismatic) joint; pressing means touching it
_ARM_FORCE = 200.0
_FINGER_FORCE = 20.0

# unit moves of the Discrete(6) actions
DISCRETE_MOVES = np.array(
    [[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]], dtype=np.float64
)
ACTION_MEANINGS = ("+x", "-x", "+y", "-y", "+z", "-z")


def _button_urdf_path() -> str:
    return str(resources.files("srl_bench.envs").joinpath("assets", "button.urdf"))


def _connect_direct() -> bullet_client.BulletClient:
    """A new DIRECT-mode PyBullet client, without the ``argv[0]=`` line PyBullet prints to stdout."""
    with _silenced(1):
        return bullet_client.BulletClient(connection_mode=pybullet.DIRECT)


class KukaButtonEnv(FrameEnv):
    """``srl/KukaButton-v0``: reach and press a button with a Kuka arm, from a fixed camera's pixels.

    Args:
        image_size: observation side (int) or (height, width); default 64.
        continuous: ``Box(-1, 1, (3,))`` actions instead of ``Discrete(6)``.
        random_target: draw the button's position on the table at every reset.
        max_steps: step cap; the episode truncates when reached.
        render_mode: ``None`` or ``"rgb_array"`` (``render()`` returns the current frame).
        arm_mesh: ``"simplified"`` (the arm drawn from a third of its triangles, ~2× faster to draw,
            frames within a few grey levels; ``envs/_arm_mesh.py``) or ``"full"`` (``pybullet_data``'s
            meshes). Collisions use the full meshes either way.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}
    ARM_MESHES = ("simplified", "full")
    # what its frames look like; in the benchmark's cell fingerprints, so cells drawn another way are redone.
    # 2: the arm drawn from simplified meshes by default (1: pybullet_data's)
    revision = 2
    state_names = ("gripper_dx", "gripper_dy", "gripper_dz", "button_x", "button_y")

    def __init__(
        self,
        image_size: int | tuple[int, int] = 64,
        continuous: bool = False,
        random_target: bool = False,
        max_steps: int = 250,
        render_mode: str | None = None,
        arm_mesh: str = "simplified",
    ) -> None:
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        if arm_mesh not in self.ARM_MESHES:
            raise ValueError(f"arm_mesh must be one of {', '.join(map(repr, self.ARM_MESHES))}, got {arm_mesh!r}")
        self.arm_mesh = arm_mesh
        for name, value in (("continuous", continuous), ("random_target", random_target)):
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"{name} must be True or False, got {value!r}")
        if isinstance(max_steps, bool) or not isinstance(max_steps, (int, np.integer)) or max_steps < 1:
            raise ValueError(f"max_steps must be a positive int, got {max_steps!r}")
        self.height, self.width = parse_image_size(image_size)
        self.continuous = bool(continuous)
        self.random_target = bool(random_target)
        self.max_steps = int(max_steps)
        self.render_mode = render_mode

        self.observation_space = image_space(self.height, self.width)
        if self.continuous:
            self.action_space: spaces.Space = spaces.Box(-1.0, 1.0, (3,), dtype=np.float32)
        else:
            self.action_space = spaces.Discrete(len(DISCRETE_MOVES))

        self._client: bullet_client.BulletClient | None = _connect_direct()
        self._client_id = self._client._client
        self._build_scene()
        self._view_matrix = self._client.computeViewMatrixFromYawPitchRoll(
            CAMERA_TARGET, CAMERA_DISTANCE, CAMERA_YAW, CAMERA_PITCH, 0.0, 2
        )
        self._projection_matrix = self._client.computeProjectionMatrixFOV(
            CAMERA_FOV, self.width / self.height, 0.05, 5.0
        )

        self.button_xy = np.array(DEFAULT_BUTTON_XY, dtype=np.float64)
        self._tool_target = np.array(HOME_TOOL_POSITION, dtype=np.float64)
        self._steps = 0
        self._presses = 0
        self._frame: np.ndarray | None = None

    # -- scene ----------------------------------------------------------------------------------
    def _build_scene(self) -> None:
        client = self._client
        client.setAdditionalSearchPath(pybullet_data.getDataPath())
        client.setGravity(0.0, 0.0, -9.81)
        client.setTimeStep(SIM_TIMESTEP)
        client.loadURDF("plane.urdf", (0.0, 0.0, -_TABLE_HEIGHT))
        # table.urdf is 1.5 m × 1 m; turned a quarter so its 1 m side runs away from the robot
        self._table = client.loadURDF(
            "table/table.urdf",
            (0.65, 0.0, -_TABLE_HEIGHT),
            client.getQuaternionFromEuler((0.0, 0.0, math.pi / 2)),
            useFixedBase=True,
        )
        pedestal_height = _TABLE_HEIGHT + ROBOT_BASE_POSITION[2]
        pedestal_half = (0.12, 0.12, pedestal_height / 2)
        client.createMultiBody(
            baseMass=0.0,
            baseCollisionShapeIndex=client.createCollisionShape(pybullet.GEOM_BOX, halfExtents=pedestal_half),
            baseVisualShapeIndex=client.createVisualShape(
                pybullet.GEOM_BOX, halfExtents=pedestal_half, rgbaColor=(0.35, 0.35, 0.4, 1.0)
            ),
            basePosition=(ROBOT_BASE_POSITION[0] - 0.02, 0.0, ROBOT_BASE_POSITION[2] - pedestal_height / 2),
        )
        arm = ARM_SDF if self.arm_mesh == "full" else simplified_arm_sdf(pybullet_data.getDataPath())
        self._kuka = client.loadSDF(arm)[0]
        client.resetBasePositionAndOrientation(self._kuka, ROBOT_BASE_POSITION, (0.0, 0.0, 0.0, 1.0))
        self._dof_joints = [
            j for j in range(client.getNumJoints(self._kuka)) if client.getJointInfo(self._kuka, j)[3] > -1
        ]
        self._button = client.loadURDF(
            _button_urdf_path(), (*DEFAULT_BUTTON_XY, 0.0), useFixedBase=True
        )
        self._joint_limits = {
            joint: client.getJointInfo(self._kuka, joint)[8:10] for joint in _ARM_JOINTS
        }
        self._home_joints = self._solve_home_posture()
        # restoring this at every reset also clears contact caches and solver warm starts, so an
        # episode does not depend on the ones before it
        self._initial_state = client.saveState()

    def _solve_home_posture(self) -> dict[int, float]:
        """Joint angles that put the tool point at ``HOME_TOOL_POSITION``, gripper down and closed."""
        client = self._client
        for joint, angle in zip(_ARM_JOINTS, _SEED_POSTURE):
            client.resetJointState(self._kuka, joint, angle)
        for joint in _FINGER_JOINTS:
            client.resetJointState(self._kuka, joint, 0.0)
        for _ in range(20):  # inverse kinematics from the current posture; iterate to converge
            # the tool point hangs a fixed world offset below the end link once the gripper points down
            self._tool_from_end_link = self.tool_position() - np.array(
                client.getLinkState(self._kuka, _END_LINK)[4]
            )
            angles = self._inverse_kinematics(np.array(HOME_TOOL_POSITION))
            for joint, angle in angles.items():
                client.resetJointState(self._kuka, joint, angle)
        end_link_position = np.array(client.getLinkState(self._kuka, _END_LINK)[4])
        self._tool_from_end_link = self.tool_position() - end_link_position
        return {joint: client.getJointState(self._kuka, joint)[0] for joint in self._dof_joints}

    def _inverse_kinematics(self, tool_position: np.ndarray) -> dict[int, float]:
        """Arm joint angles placing the tool point at ``tool_position``, gripper pointing down."""
        angles = self._client.calculateInverseKinematics(
            self._kuka,
            _END_LINK,
            (tool_position - self._tool_from_end_link).tolist(),
            _DOWN,
            maxNumIterations=50,
            residualThreshold=1e-5,
        )
        solution = dict(zip(self._dof_joints, angles))
        # past the arm's reach the solution breaks joint limits; clipping keeps the commanded
        # posture one the simulated arm can actually take, so the arm stops at the wall smoothly
        arm = {
            joint: float(np.clip(solution[joint], *self._joint_limits[joint])) for joint in _ARM_JOINTS
        }
        return arm | {joint: 0.0 for joint in _FINGER_JOINTS}

    def _command_joints(self, angles: dict[int, float]) -> None:
        client = self._client
        client.setJointMotorControlArray(
            self._kuka,
            list(_ARM_JOINTS),
            pybullet.POSITION_CONTROL,
            targetPositions=[angles[j] for j in _ARM_JOINTS],
            forces=[_ARM_FORCE] * len(_ARM_JOINTS),
            positionGains=[0.3] * len(_ARM_JOINTS),
        )
        client.setJointMotorControlArray(
            self._kuka,
            list(_FINGER_JOINTS),
            pybullet.POSITION_CONTROL,
            targetPositions=[0.0] * len(_FINGER_JOINTS),
            forces=[_FINGER_FORCE] * len(_FINGER_JOINTS),
        )

    # -- handles (for tests, pictures and debugging) -------------------------------------------
    @property
    def client(self) -> bullet_client.BulletClient:
        """This env's own PyBullet client."""
        self._require_open()
        return self._client

    @property
    def client_id(self) -> int:
        """The PyBullet physics-client id (for ``pybullet.*(..., physicsClientId=...)``)."""
        return self._client_id

    @property
    def body_ids(self) -> dict[str, int]:
        """PyBullet body ids of the ``robot``, ``button`` and ``table``."""
        return {"robot": self._kuka, "button": self._button, "table": self._table}

    # -- measurements ---------------------------------------------------------------------------
    def tool_position(self) -> np.ndarray:
        """World position of the gripper's tool point (between the fingertips)."""
        link_state = self._client.getLinkState(self._kuka, GRIPPER_BASE_LINK, computeForwardKinematics=True)
        position, _ = self._client.multiplyTransforms(
            link_state[4], link_state[5], TOOL_OFFSET_IN_GRIPPER, (0.0, 0.0, 0.0, 1.0)
        )
        return np.array(position, dtype=np.float64)

    def button_top(self) -> np.ndarray:
        """World position of the unpressed button cap's top centre."""
        return np.array([self.button_xy[0], self.button_xy[1], BUTTON_TOP_Z])

    def _gripper_touches(self, body: int, link: int | None = None) -> bool:
        """Whether any gripper link is in contact with ``body`` (or only its ``link``)."""
        client = self._client
        other = {} if link is None else {"linkIndexB": link}
        return any(
            client.getContactPoints(self._kuka, body, linkIndexA=gripper_link, **other)
            for gripper_link in _GRIPPER_LINKS
        )

    def _state(self) -> np.ndarray:
        relative = self.tool_position() - self.button_top()
        return np.concatenate([relative, self.button_xy]).astype(np.float32)

    def _info(self) -> dict[str, Any]:
        return {"state": self._state(), "presses": self._presses}

    # -- Gymnasium API --------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._require_open()
        client = self._client
        client.restoreState(stateId=self._initial_state)
        if self.random_target:
            half = np.array(RANDOM_BUTTON_HALF_EXTENT)
            self.button_xy = np.array(DEFAULT_BUTTON_XY) + self.np_random.uniform(-half, half)
        else:
            self.button_xy = np.array(DEFAULT_BUTTON_XY, dtype=np.float64)
        client.resetBasePositionAndOrientation(self._button, (*self.button_xy, 0.0), (0.0, 0.0, 0.0, 1.0))
        client.resetJointState(self._button, 0, 0.0)
        # a weak motor holding the cap up acts as the button's spring
        client.setJointMotorControl2(
            self._button, 0, pybullet.POSITION_CONTROL, targetPosition=0.0, force=5.0
        )

        # a few random moves from home, chosen so the start stays well inside the safe region
        start = np.array(HOME_TOOL_POSITION, dtype=np.float64)
        for _ in range(RESET_RANDOM_MOVES):
            move = DISCRETE_MOVES[self.np_random.integers(len(DISCRETE_MOVES))] * STEP
            candidate = start + move + self.np_random.normal(0.0, MOVE_NOISE_STD, 3)
            if (
                candidate[2] >= RESET_MIN_TOOL_HEIGHT
                and np.linalg.norm(candidate - self.button_top()) <= SAFETY_RADIUS - 2 * STEP
            ):
                start = candidate
        for joint, angle in self._home_joints.items():
            client.resetJointState(self._kuka, joint, angle)
        for _ in range(3):  # converge from the home posture to the start point
            angles = self._inverse_kinematics(start)
            for joint, angle in angles.items():
                client.resetJointState(self._kuka, joint, angle)
        self._command_joints(angles)
        for _ in range(SUBSTEPS_PER_ACTION // 2):
            client.stepSimulation()
        self._tool_target = start
        self._steps = 0
        self._presses = 0
        return self._observe(), self._info()

    def step(self, action):
        self._require_open()
        move = self._action_to_move(action) + self.np_random.normal(0.0, MOVE_NOISE_STD, 3)
        # keep the commanded point within a step of where the tool is, so pushing against the
        # button or the table does not wind the target up far from the arm
        tool = self.tool_position()
        target = self._tool_target + move
        lag = target - tool
        lag_norm = float(np.linalg.norm(lag))
        if lag_norm > STEP:
            target = tool + lag * (STEP / lag_norm)
        self._tool_target = target
        self._command_joints(self._inverse_kinematics(target))
        for _ in range(SUBSTEPS_PER_ACTION):
            self._client.stepSimulation()
        self._steps += 1

        reward = 0.0
        terminated = False
        if self._gripper_touches(self._table) or (
            np.linalg.norm(self.tool_position() - self.button_top()) > SAFETY_RADIUS
        ):
            reward, terminated = -1.0, True
        elif self._gripper_touches(self._button, _BUTTON_CAP_LINK):
            self._presses += 1
            reward = 1.0
            terminated = self._presses >= PRESSES_TO_WIN
        truncated = not terminated and self._steps >= self.max_steps
        return self._observe(), reward, terminated, truncated, self._info()

    def close(self) -> None:
        """Disconnect this env's PyBullet client (safe to call more than once)."""
        if self._client is not None:
            self._client.disconnect()
            self._client = None

    # -- internals ------------------------------------------------------------------------------
    def _require_open(self) -> None:
        if self._client is None:
            raise RuntimeError("this KukaButtonEnv is closed; make a new one")

    def _action_to_move(self, action) -> np.ndarray:
        if self.continuous:
            vector = np.asarray(action, dtype=np.float64).reshape(-1)
            if vector.shape != (3,) or not np.all(np.isfinite(vector)):
                raise ValueError(f"action must be 3 finite numbers in [-1, 1], got {action!r}")
            return np.clip(vector, -1.0, 1.0) * STEP
        if not self.action_space.contains(action):
            raise ValueError(f"action must be an int in [0, {len(DISCRETE_MOVES)}), got {action!r}")
        return DISCRETE_MOVES[int(action)] * STEP

    def _draw_frame(self) -> np.ndarray:
        _, _, rgba, _, _ = self._client.getCameraImage(
            self.width,
            self.height,
            self._view_matrix,
            self._projection_matrix,
            renderer=pybullet.ER_TINY_RENDERER,
            flags=pybullet.ER_NO_SEGMENTATION_MASK,
        )
        frame = np.asarray(rgba, dtype=np.uint8).reshape(self.height, self.width, 4)[:, :, :3]
        return np.ascontiguousarray(frame)


class ReachButtonPolicy:
    """Scripted policy that reaches and presses the button using the ground-truth state.

    It first aligns the tool point over the button (moving along the horizontal axis with the larger
    error), then descends. With ``epsilon > 0`` it takes a uniformly random action with that
    probability, which makes collected datasets more varied while still containing presses.
    Called as ``policy(observation, info) -> action``; only ``info["state"]`` is used.

    Args:
        env: the env (or its action space: ``Discrete(6)`` or ``Box(-1, 1, (3,))``).
        seed: seed of the policy's own random generator (used only when ``epsilon > 0``).
        epsilon: probability of a random action at each step.
        tolerance: horizontal error (metres) below which the policy descends.
    """

    default_epsilon = 0.0

    def __init__(
        self,
        env: gym.Env | spaces.Space,
        seed: int | None = None,
        epsilon: float | None = None,
        tolerance: float = 0.015,
    ) -> None:
        epsilon = self.default_epsilon if epsilon is None else float(epsilon)
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError(f"epsilon must be in [0, 1], got {epsilon!r}")
        self.action_space = env if isinstance(env, spaces.Space) else env.action_space
        if not isinstance(self.action_space, (spaces.Discrete, spaces.Box)):
            raise ValueError(f"ReachButtonPolicy needs the KukaButton action space, got {self.action_space}")
        self.continuous = isinstance(self.action_space, spaces.Box)
        self.epsilon = epsilon
        self.tolerance = float(tolerance)
        self.rng = np.random.default_rng(seed)

    def __call__(self, observation: np.ndarray, info: dict[str, Any]):
        """The action for this step, from ``info["state"]`` (the observation is not used)."""
        if self.epsilon > 0.0 and self.rng.random() < self.epsilon:
            if self.continuous:
                return self.rng.uniform(-1.0, 1.0, 3).astype(np.float32)
            return int(self.rng.integers(len(DISCRETE_MOVES)))
        dx, dy, dz = (float(v) for v in info["state"][:3])
        aligned = max(abs(dx), abs(dy)) <= self.tolerance
        if self.continuous:
            horizontal = np.clip(-np.array([dx, dy]) / STEP, -1.0, 1.0)
            down = -1.0 if aligned else 0.0
            return np.array([*horizontal, down], dtype=np.float32)
        if aligned:
            return 5  # -z
        if abs(dx) >= abs(dy):
            return 1 if dx > 0 else 0  # -x / +x
        return 3 if dy > 0 else 2  # -y / +y


class NoisyReachButtonPolicy(ReachButtonPolicy):
    """``ReachButtonPolicy`` with a random action 25% of the time (collection policy ``kuka_reach``).

    Episodes reach the button and end after its 5 presses (about 18 steps), so a dataset shows a few
    centimetres around the straight path to the button (3% of the reachable workspace,
    ``docs/robot_arm.md``); collect with ``ExploreButtonPolicy`` (``kuka_explore``) to cover it.
    """

    default_epsilon = 0.25


class ExploreButtonPolicy:
    """Wanders over the workspace and presses the button now and then: the policy whose datasets'
    true states cover the workspace (``scripts/kuka_coverage.py`` measures it).

    The episode is a sequence of goals. Each goal is, with probability ``press_probability``, the
    button (approached as ``ReachButtonPolicy`` does, until a press is counted in
    ``info["presses"]``), otherwise a waypoint drawn uniformly in the ball of radius ``radius``
    around the button's top, cut at ``min_height`` above the table (so the arm seldom touches it).
    The policy heads for a waypoint along the axis with the largest error (discrete actions) or
    straight at it (continuous actions, the move clipped to one step), with a uniformly random action
    with probability ``epsilon``; the waypoint is done when within ``tolerance`` of the tool point,
    or after ``patience`` steps (it may lie out of the arm's reach). Only ``info["state"]`` and
    ``info["presses"]`` are read; all randomness comes from ``seed``.

    Args:
        env: the env (or its action space).
        seed: seed of the policy's own random generator.
        epsilon: probability of a random action at each step.
        press_probability: probability that the next goal is a press of the button.
        radius: waypoints lie within this distance (metres) of the button's top.
        min_height: waypoints lie at least this high (metres) above the table.
        tolerance: distance (metres) at which a waypoint counts as reached.
        patience: steps after which an unreached waypoint is given up.
    """

    def __init__(
        self,
        env: gym.Env | spaces.Space,
        seed: int | None = None,
        epsilon: float = 0.1,
        press_probability: float = 0.15,
        radius: float = SAFETY_RADIUS - STEP,
        min_height: float = 0.03,
        tolerance: float = 0.03,
        patience: int = 40,
    ) -> None:
        for name, value in (("epsilon", epsilon), ("press_probability", press_probability)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value!r}")
        self.presser = ReachButtonPolicy(env, seed=None, epsilon=0.0)
        self.action_space, self.continuous = self.presser.action_space, self.presser.continuous
        self.epsilon, self.press_probability = float(epsilon), float(press_probability)
        self.radius, self.min_height = float(radius), float(min_height)
        self.tolerance, self.patience = float(tolerance), int(patience)
        self.rng = np.random.default_rng(seed)
        self.waypoint: np.ndarray | None = None  # relative to the button's top; None while pressing
        self.pressing = False
        self.presses = 0
        self.steps_on_goal = 0

    def _next_goal(self) -> None:
        self.steps_on_goal = 0
        self.pressing = bool(self.rng.random() < self.press_probability)
        if self.pressing:
            self.waypoint = None
            return
        lowest = self.min_height - BUTTON_TOP_Z  # relative to the button's top
        while True:  # uniform in the ball, rejecting what lies below the cut (about a fifth of it)
            point = self.rng.uniform(-self.radius, self.radius, 3)
            if np.linalg.norm(point) <= self.radius and point[2] >= lowest:
                self.waypoint = point
                return

    def __call__(self, observation: np.ndarray, info: dict[str, Any]):
        """The action for this step, from ``info["state"]`` and ``info["presses"]``."""
        presses = int(info.get("presses", 0))
        relative = np.asarray(info["state"][:3], dtype=np.float64)
        if self.waypoint is None and not self.pressing:  # the episode's first call
            self.presses = presses
            self._next_goal()
        elif self.pressing and (presses > self.presses or self.steps_on_goal >= 2 * self.patience):
            self._next_goal()
        elif self.waypoint is not None and (np.linalg.norm(self.waypoint - relative) <= self.tolerance
                                            or self.steps_on_goal >= self.patience):
            self._next_goal()
        self.presses = presses
        self.steps_on_goal += 1
        if self.epsilon > 0.0 and self.rng.random() < self.epsilon:
            if self.continuous:
                return self.rng.uniform(-1.0, 1.0, 3).astype(np.float32)
            return int(self.rng.integers(len(DISCRETE_MOVES)))
        if self.pressing:
            return self.presser(observation, info)
        error = self.waypoint - relative
        if self.continuous:
            return np.clip(error / STEP, -1.0, 1.0).astype(np.float32)
        axis = int(np.argmax(np.abs(error)))
        return 2 * axis + (0 if error[axis] > 0 else 1)  # +x -x +y -y +z -z
