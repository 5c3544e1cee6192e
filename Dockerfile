# The comparator image: `comparator` (run, check, demo) and the demo gateway
# (`python -m comparator.app.demo.gateway_main`). Used by docker-compose.yml; build it with
#   docker build -t dark-launch-comparator:0.1.0 .
FROM python:3.11.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# Only what the wheel needs (the JSON Schemas are packaged as comparator/schemas).
COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY comparator ./comparator
# confluent-kafka's manylinux wheel bundles librdkafka: no system packages needed.
RUN pip install . \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin comparator

WORKDIR /
USER 10001
# /metrics, /healthz, /readyz (metrics.listen must be 0.0.0.0:9108 in a container)
EXPOSE 9108
ENTRYPOINT ["comparator"]
CMD ["--help"]
