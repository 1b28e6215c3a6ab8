"""ONNX Runtime for the indexing section's comparison: what is installed, the model exported with
``torch.onnx.export`` (fp32, and dynamic int8), and an encoder running it (used by :mod:`bench.embedding`)."""

from __future__ import annotations

import logging
from pathlib import Path

from rag.models.openvino_encoder import ExportedEncoder

logger = logging.getLogger(__name__)


# -- ONNX Runtime ------------------------------------------------------------------------------------
def onnx_status() -> dict:
    """Which ONNX/OpenVINO routes can run here, and why not when they cannot."""
    status: dict = {}
    try:
        import onnxruntime

        status["onnxruntime"] = onnxruntime.__version__
    except ImportError:
        status["onnxruntime"] = None
    try:
        import onnx

        status["onnx"] = onnx.__version__
    except ImportError:
        status["onnx"] = None
    try:
        import optimum.onnxruntime  # noqa: F401

        status["sentence_transformers_backend_onnx"] = "available"
    except ImportError:
        status["sentence_transformers_backend_onnx"] = (
            "unavailable: backend='onnx' needs optimum-onnx, whose releases pin transformers<5 (this project pins "
            "transformers==5.24.0); the bench exports the same model with torch.onnx and runs it with onnxruntime"
        )
    try:
        import openvino

        status["openvino"] = openvino.__version__
    except ImportError:
        status["openvino"] = None
    return status


def export_onnx(model, path: Path) -> Path:
    """Export the transformer of a SentenceTransformer (token embeddings) to ONNX, once."""
    if path.exists():
        return path
    import torch

    class _Wrapped(torch.nn.Module):
        def __init__(self, hf) -> None:
            super().__init__()
            self.hf = hf

        def forward(self, input_ids, attention_mask):
            return self.hf(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    hf = model[0].auto_model
    sample = model.tokenizer(["passage: مرحبا", "passage: القوات العراقية في بغداد"], padding=True, return_tensors="pt")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.onnx")
    import warnings

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _Wrapped(hf).eval(),
            (sample["input_ids"], sample["attention_mask"]),
            str(tmp),
            input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "seq"},
                "attention_mask": {0: "batch", 1: "seq"},
                "last_hidden_state": {0: "batch", 1: "seq"},
            },
            opset_version=17,
            dynamo=False,
        )
    tmp.replace(path)
    return path


def quantize_onnx(src: Path, dst: Path) -> Path:
    """Dynamic int8 quantisation of the exported model (weights only), once."""
    if not dst.exists():
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8)
    return dst


def onnxruntime_encoder(model, onnx_path: Path, threads: int) -> ExportedEncoder:
    """The exported model run by ONNX Runtime, pooled the way sentence-transformers does."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
    return ExportedEncoder(
        model.tokenizer, model.max_seq_length, lambda feeds: session.run(None, feeds)[0], name="onnxruntime"
    )
