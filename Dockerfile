# theazo-emu in a container: `docker build -t theazo-emu .` then
# `docker run --rm -p 127.0.0.1:4010:4010 theazo-emu` (docs/containers-and-ci.md says why loopback).
FROM python:3.11-slim
RUN useradd --create-home --uid 10001 emu
COPY pyproject.toml README.md /src/
COPY theazo_emu /src/theazo_emu
RUN pip install --no-cache-dir /src && rm -rf /src
USER emu
WORKDIR /home/emu
EXPOSE 4010
HEALTHCHECK --interval=5s --timeout=2s --start-period=5s --retries=6 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:4010/_emu/health', timeout=2)"]
ENTRYPOINT ["theazo-emu", "serve", "--host", "0.0.0.0", "--port", "4010"]
