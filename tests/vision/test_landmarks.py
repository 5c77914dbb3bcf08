"""The face mesh on real faces: eyes, mouth and the head's pivot where a person would put them."""

from __future__ import annotations

import numpy as np

from refvid.vision.faces import detect_faces
from refvid.vision.landmarks import face_landmarks


def test_the_astronauts_landmarks(astronaut: np.ndarray) -> None:
    face = detect_faces(astronaut)[0]
    marks = face_landmarks(astronaut, face)
    assert marks is not None and marks.presence > 0.9
    assert marks.points.shape == (468, 2)
    # Checked by hand on the 512 px picture: eyes at about (205, 102) and (247, 105).
    assert abs(marks.right_eye.centre[0] - 205) < 8 and abs(marks.right_eye.centre[1] - 103) < 8
    assert abs(marks.left_eye.centre[0] - 247) < 8 and abs(marks.left_eye.centre[1] - 105) < 8
    assert 15 < marks.right_eye.width < 25 and 0.15 < marks.right_eye.openness < 0.6  # open eyes
    assert marks.right_eye.centre[1] < marks.nose[1] < marks.mouth[1] < marks.pivot[1]
    assert 180 < marks.pivot[1] < 230  # below the chin, at the neck
    assert abs(np.degrees(marks.roll) - 3) < 3  # her head leans a little


def test_a_rotated_face_gives_rotated_landmarks(astronaut: np.ndarray) -> None:
    import cv2

    turn = cv2.getRotationMatrix2D((256, 256), -20, 1.0)  # 20 degrees clockwise on screen
    rotated = cv2.warpAffine(astronaut, turn, (512, 512), borderMode=cv2.BORDER_REFLECT)
    marks = face_landmarks(rotated, detect_faces(rotated)[0])
    assert marks is not None
    upright = face_landmarks(astronaut, detect_faces(astronaut)[0])
    assert upright is not None
    assert abs(np.degrees(marks.roll - upright.roll) - 20) < 4
    expected = turn[:, :2] @ np.array(upright.right_eye.centre) + turn[:, 2]
    assert np.linalg.norm(np.array(marks.right_eye.centre) - expected) < 6
