"""A vision-capable model looking at images: captions that make photos citable evidence, and answers to
questions about an image. Configured by ``llm.vision_model`` (same provider and endpoint as ``llm``)."""

from __future__ import annotations

import base64
import io
import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MAX_SIDE = 1568  # long side sent to the model; larger photos are scaled down
CAPTION_PROMPT = (
    "Describe this image factually in one paragraph for a research report: what it shows, any landmark, "
    "place, object, chart or text you can identify, and nothing you cannot see. Answer in the language of "
    "any text in the image, else in Chinese if the scene is in China, else in English."
)


def image_data_url(path: Path) -> str:
    """The image as a ``data:`` URL (JPEG, long side at most :data:`MAX_SIDE`, EXIF orientation applied)."""
    from PIL import Image, ImageOps

    with Image.open(path) as img:
        img = ImageOps.exif_transpose(img).convert("RGB")
        img.thumbnail((MAX_SIDE, MAX_SIDE))
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=88)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def image_message(path: Path, text: str) -> dict[str, Any]:
    """A user message holding ``text`` and the image (internal OpenAI shape)."""
    return {"role": "user", "content": [
        {"type": "text", "text": text},
        {"type": "image_url", "image_url": {"url": image_data_url(path)}},
    ]}


class VisionModel:
    """Asks the configured vision model about image files."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.model = getattr(client, "model", "")

    def ask(self, path: Path, question: str) -> str:
        """The model's answer to ``question`` about the image at ``path``."""
        resp = self.client.chat([image_message(Path(path), question)])
        return (resp.text or "").strip()

    def caption(self, path: Path) -> str | None:
        """A factual one-paragraph caption, or None when the model returns nothing."""
        return self.ask(path, CAPTION_PROMPT) or None


def vision_model(settings: Any) -> VisionModel | None:
    """The vision model of ``settings`` (None when ``llm.vision_model`` is empty)."""
    llm = getattr(settings, "llm", None)
    name = (getattr(llm, "vision_model", "") or "").strip()
    if not name:
        return None
    from sourcebook.llm.factory import make_client

    client = make_client(llm, model=name)
    return VisionModel(client) if client is not None else None


def install_captioner(settings: Any) -> bool:
    """Make image evidence include captions from the configured vision model; False when none is set
    (a captioner installed earlier from other settings is then removed)."""
    from sourcebook.media import image

    vm = vision_model(settings)
    if vm is None:
        if image.captioner_name().startswith("vision-"):
            image.set_captioner(None)
        return False
    image.set_captioner(vm.caption, name=f"vision-{vm.model}")
    log.info("image captions from %s", vm.model)
    return True
