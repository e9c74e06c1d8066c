"""Training, data preparation and calibration of the models the service ships: the fidelity judge
(`training.judge`), the address model (`training.addressed`) and the public data they learn from
(`training.sources`). Run from a checkout with the train extra (`pip install -e '.[train]'`):
`python -m training --help`. Not part of the runtime wheel, which imports no torch."""
