"""The fidelity judge: contrast pairs, fine-tuning and ONNX export, calibration on human labels."""
