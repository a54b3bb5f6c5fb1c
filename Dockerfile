# Gradescope's manual Docker deployment. Build and push it, then give Gradescope the image name:
#   docker build -t USER/rnngrade-autograder . && docker push USER/rnngrade-autograder
# Thin on purpose: the install is scripts/setup.sh, the same script CI runs in a fresh venv.
# The base tag pins Ubuntu 22.04 (Python 3.10): gradescope/autograder-base:ubuntu-22.04, the tag
# public Gradescope Dockerfiles use (their sample's default is :latest, which moves).
ARG BASE_REPO=gradescope/autograder-base
ARG TAG=ubuntu-22.04
FROM ${BASE_REPO}:${TAG}

COPY pyproject.toml README.md /autograder/source/
COPY reference /autograder/source/reference
COPY autograder /autograder/source/autograder
COPY homework /autograder/source/homework
COPY rnngrade /autograder/source/rnngrade
COPY scripts /autograder/source/scripts

RUN bash /autograder/source/scripts/gradescope/setup.sh \
 && install -m 0755 /autograder/source/scripts/gradescope/run_autograder /autograder/run_autograder \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /root/.cache/pip
