# One image for the API and the embedded LLM server (compose.yaml runs it twice).
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends build-essential cmake curl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# why: a native llama.cpp build can die with "Illegal instruction" on another CPU.
ENV CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" \
    PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY service ./service
COPY prompts ./prompts
COPY examples ./examples
# prompts and data ship inside the package (tests/test_package.py), so no editable install
RUN pip install --no-cache-dir .
EXPOSE 8000 8080
CMD ["briefing", "serve", "--host", "0.0.0.0", "--port", "8000"]
