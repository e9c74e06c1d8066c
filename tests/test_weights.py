"""Weight-only int8: the training export and the conversion of a dynamically quantised model give
int8 weights behind DequantizeLinear, read into float32 MatMuls."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from service.fidelity.weights import from_dynamic, quantise_weights, symmetric_int8, without_nan_guards
from service.onnx_models import session_options


def _float_model(weight: np.ndarray) -> onnx.ModelProto:
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", weight.shape[0]])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", weight.shape[1]])],
        [numpy_helper.from_array(weight, "w")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _run(model: onnx.ModelProto, x: np.ndarray, tmp_path: Path) -> np.ndarray:
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    session = ort.InferenceSession(str(path), session_options(1), providers=["CPUExecutionProvider"])
    return np.asarray(session.run(None, {"x": x})[0])


def test_quantised_weights_compute_the_float_product_of_their_int8_values(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    weight = rng.standard_normal((96, 64)).astype(np.float32)
    x = rng.standard_normal((3, 96)).astype(np.float32)
    model = quantise_weights(_float_model(weight))
    onnx.checker.check_model(model)
    kinds = [n.op_type for n in model.graph.node]
    assert kinds == ["DequantizeLinear", "MatMul"]
    stored = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    assert stored["w_int8"].dtype == np.int8 and "w" not in stored
    q, scale = symmetric_int8(weight)
    assert np.abs(q).max() == 127 and (np.abs(q * scale - weight) <= scale / 2 + 1e-7).all()
    np.testing.assert_allclose(_run(model, x, tmp_path), x @ (q * scale), rtol=1e-5, atol=1e-5)


def test_a_dynamically_quantised_model_keeps_its_int8_weights_and_loses_its_integer_kernels(
    tmp_path: Path,
) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    rng = np.random.default_rng(2)
    weight = rng.standard_normal((96, 64)).astype(np.float32)
    onnx.save(_float_model(weight), str(tmp_path / "f.onnx"))
    quantize_dynamic(str(tmp_path / "f.onnx"), str(tmp_path / "d.onnx"), weight_type=QuantType.QInt8,
                     per_channel=True)
    dynamic = onnx.load(str(tmp_path / "d.onnx"))
    before = {i.name: numpy_helper.to_array(i) for i in dynamic.graph.initializer}
    converted = from_dynamic(dynamic)
    onnx.checker.check_model(converted)
    assert {n.op_type for n in converted.graph.node} == {"DequantizeLinear", "MatMul"}
    after = {i.name: numpy_helper.to_array(i) for i in converted.graph.initializer}
    int8 = [name for name, v in before.items() if v.dtype == np.int8 and v.ndim == 2]
    assert int8 and all(np.array_equal(before[n], after[n]) for n in int8)
    x = rng.standard_normal((3, 96)).astype(np.float32)
    scale = next(v for n, v in after.items() if n.endswith("scale"))
    expected = x @ (after[int8[0]].astype(np.float32) * scale)
    np.testing.assert_allclose(_run(converted, x, tmp_path), expected, rtol=1e-5, atol=1e-5)


def test_the_nan_guard_after_a_softmax_goes_and_the_outputs_stay_the_same(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Softmax", ["x"], ["p"], axis=-1),
        helper.make_node("IsNaN", ["p"], ["nan"]),
        helper.make_node("Where", ["nan", "zero", "p"], ["g"]),
        helper.make_node("Mul", ["g", "two"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 8])],
        [numpy_helper.from_array(np.zeros((), dtype=np.float32), "zero"),
         numpy_helper.from_array(np.full((), 2.0, dtype=np.float32), "two")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    x = np.random.default_rng(3).standard_normal((4, 8)).astype(np.float32)
    guarded = _run(model, x, tmp_path)
    bare = without_nan_guards(model)
    assert [n.op_type for n in bare.graph.node] == ["Softmax", "Mul"]
    assert np.array_equal(_run(bare, x, tmp_path), guarded)


def test_an_embedding_table_is_stored_as_int8_with_one_scale_per_row(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    table = rng.standard_normal((300, 32)).astype(np.float32)
    table[7] *= 100  # why: one outlying row must not coarsen every other row's precision
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "x"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.INT64, ["n"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 32])],
        [numpy_helper.from_array(table, "table")],
    )
    model = quantise_weights(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))
    onnx.checker.check_model(model)
    assert [n.op_type for n in model.graph.node] == ["DequantizeLinear", "Gather"]
    stored = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    assert stored["table_int8"].dtype == np.int8 and stored["table_scale"].shape == (300,)
    rows = np.array([0, 7, 299], dtype=np.int64)
    path = tmp_path / "g.onnx"
    onnx.save(model, str(path))
    session = ort.InferenceSession(str(path), session_options(1), providers=["CPUExecutionProvider"])
    got = np.asarray(session.run(None, {"x": rows})[0])
    # each row within half a step of its own scale: the outlier's scale is 100 times the others'
    half_step = np.abs(table[rows]).max(axis=1, keepdims=True) / 254 + 1e-6
    assert (np.abs(got - table[rows]) <= half_step).all()
