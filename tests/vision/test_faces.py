"""BlazeFace on real photos: the faces that are there, and none where there are none."""

from __future__ import annotations

import numpy as np

from refvid.vision.faces import detect_faces


def _inside(point: np.ndarray, box: tuple[float, float, float, float]) -> bool:
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


def test_the_astronauts_face_is_found_with_its_eyes_in_place(astronaut: np.ndarray) -> None:
    faces = detect_faces(astronaut)
    assert len(faces) == 1
    face = faces[0]
    # Checked by hand: the face spans about x 180-270, y 80-180 of the 512 px picture.
    assert _inside(np.array([face.box[0], face.box[1]]), (160, 60, 200, 110))
    assert _inside(np.array([face.box[2], face.box[3]]), (250, 150, 290, 200))
    right_eye, left_eye = face.keypoints[0], face.keypoints[1]
    assert right_eye[0] < left_eye[0]  # the subject's right eye is on the image's left
    assert _inside(right_eye, (190, 90, 215, 115)) and _inside(left_eye, (235, 90, 260, 120))


def test_a_profile_face_in_a_portrait_crop_is_found(person: np.ndarray) -> None:
    faces = detect_faces(person)
    assert faces and _inside(np.array([(faces[0].box[0] + faces[0].box[2]) / 2,
                                       (faces[0].box[1] + faces[0].box[3]) / 2]), (180, 110, 270, 200))


def test_boxes_scale_with_the_picture(astronaut: np.ndarray) -> None:
    import cv2

    big = cv2.resize(astronaut, (1536, 1536), interpolation=cv2.INTER_CUBIC)
    small, large = detect_faces(astronaut)[0], detect_faces(big)[0]
    assert np.allclose(np.array(large.box) / 3, small.box, atol=4)


def test_no_face_in_a_cup_of_coffee_or_in_noise(coffee: np.ndarray) -> None:
    assert detect_faces(coffee) == []
    noise = np.random.default_rng(3).integers(0, 256, (300, 500, 3), dtype=np.uint8)
    assert detect_faces(noise) == []
