"""The Kuka arm drawn from simplified meshes: same scene, same physics, a third of the triangles.

PyBullet's ``ER_TINY_RENDERER`` costs time per triangle, and the iiwa's eight visual meshes in
``pybullet_data`` hold 14,758 triangles, ~60% of a 64×64 frame's drawing time: far more detail
than 64×64 pixels show. :func:`simplified_arm_sdf` writes, once per process, a copy of
``kuka_iiwa/kuka_with_gripper2.sdf`` whose link visuals are those meshes simplified by vertex
clustering (:func:`cluster_vertices`, 2 cm cells: 4,707 triangles); every other path, the collision
meshes included, points at ``pybullet_data``, so contacts, dynamics and the true state are
unchanged. ``scripts/bench_kuka_render.py`` measures the drawing time of both and how far their
frames differ.
"""

from __future__ import annotations

import atexit
import functools
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

ARM_SDF = "kuka_iiwa/kuka_with_gripper2.sdf"  # in pybullet_data
CLUSTER_CELL = 0.02  # metres: vertices within one such cube become one
_LINK_MESH = re.compile(r"^link_\d+\.obj$")


def read_obj(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The vertices (V, 3) and triangles (F, 3; 0-based vertex indices) of a triangulated OBJ file."""
    vertices, faces = [], []
    for line in path.read_text().splitlines():
        if line.startswith("v "):
            vertices.append([float(x) for x in line.split()[1:4]])
        elif line.startswith("f "):
            corners = [int(token.split("/")[0]) - 1 for token in line.split()[1:]]
            faces.extend([corners[0], corners[i], corners[i + 1]] for i in range(1, len(corners) - 1))
    return np.asarray(vertices, dtype=np.float64), np.asarray(faces, dtype=np.int64)


def cluster_vertices(vertices: np.ndarray, faces: np.ndarray, cell: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vertex-clustering simplification: the vertices in each cube ⌊v / cell⌋ merge into their mean,
    triangles that lose a corner that way are dropped, as are duplicates. Returns the new vertices,
    triangles and per-vertex normals (the normalised sum of the adjacent triangles' area-weighted
    normals, (b − a) × (c − a), keeping the input's winding)."""
    cubes = np.floor(vertices / cell).astype(np.int64)
    _, cluster = np.unique(cubes, axis=0, return_inverse=True)
    cluster = cluster.reshape(-1)
    merged = np.zeros((cluster.max() + 1, 3))
    np.add.at(merged, cluster, vertices)
    merged /= np.bincount(cluster)[:, None]
    kept = cluster[faces]
    kept = kept[(kept[:, 0] != kept[:, 1]) & (kept[:, 1] != kept[:, 2]) & (kept[:, 0] != kept[:, 2])]
    kept = kept[np.sort(np.unique(np.sort(kept, axis=1), axis=0, return_index=True)[1])]
    a, b, c = (merged[kept[:, i]] for i in range(3))
    face_normals = np.cross(b - a, c - a)
    normals = np.zeros_like(merged)
    for corner in range(3):
        np.add.at(normals, kept[:, corner], face_normals)
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
    return merged, kept, normals


def write_obj(path: Path, vertices: np.ndarray, faces: np.ndarray, normals: np.ndarray, material: str) -> None:
    """An OBJ file of triangles with per-vertex normals, using material library ``material``."""
    lines = [f"mtllib {material}", "usemtl None"]
    lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in vertices]
    lines += [f"vn {x:.6f} {y:.6f} {z:.6f}" for x, y, z in normals]
    lines += [f"f {a + 1}//{a + 1} {b + 1}//{b + 1} {c + 1}//{c + 1}" for a, b, c in faces]
    path.write_text("\n".join(lines) + "\n")


def _remove_at_exit(folder: Path) -> None:
    creator = os.getpid()

    def remove() -> None:
        if os.getpid() == creator:  # not from a forked worker that inherited the folder
            shutil.rmtree(folder, ignore_errors=True)

    atexit.register(remove)


@functools.lru_cache(maxsize=None)
def simplified_arm_sdf(data_path: str, cell: float = CLUSTER_CELL) -> str:
    """The path of an SDF of the Kuka with gripper whose link visuals are simplified (see the module
    docstring); written once per process into a temporary folder removed at exit."""
    source = Path(data_path) / ARM_SDF
    folder = Path(tempfile.mkdtemp(prefix="srl-bench-kuka-"))
    _remove_at_exit(folder)

    def rewrite(match: re.Match[str]) -> str:
        uri = match.group(1).lstrip("/")
        original = source.parent / uri
        if _LINK_MESH.match(original.name):
            vertices, faces, normals = cluster_vertices(*read_obj(original), cell)
            material = original.with_suffix(".mtl")
            write_obj(folder / original.name, vertices, faces, normals, material.name)
            shutil.copyfile(material, folder / material.name)
            return f"<uri>{folder / original.name}</uri>"
        return f"<uri>{original}</uri>"

    text = re.sub(r"<uri>([^<]+)</uri>", rewrite, source.read_text())
    (folder / source.name).write_text(text)
    return str(folder / source.name)
