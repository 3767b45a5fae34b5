"""i2a: Imagination-Augmented Agents (Weber et al., NeurIPS 2017) in TensorFlow 2 + Sonnet 2."""
import setuptools

# The pinned stack (README). Install `tensorflow`, never also `tensorflow-cpu`: tf-keras pulls
# `tensorflow`, and two TensorFlows in one environment break each other.
INSTALL_REQUIRES = [
    "tensorflow==2.21.*",
    "dm-sonnet==2.0.2",
    "trfl==1.2.0",
    "tensorflow-probability==0.25.*",  # trfl imports it.
    "tf-keras==2.21.*",  # tensorflow-probability needs it.
    "dm-env==1.6",
    "numpy",
    "absl-py",
    "pillow",  # PNG/GIF pictures of imagination.
    "matplotlib",  # launch.report's learning curves.
]

EXTRAS_REQUIRE = {
    # The tests cover the Ray backend and the gymnasium adapter, so they need both.
    "test": ["pytest", "pytest-xdist", "ray==2.*", "gymnasium>=1.0"],
    "ray": ["ray[default]==2.*"],
    "gym": ["gymnasium>=1.0"],
}

setuptools.setup(
    name="i2a",
    version="0.1.0",
    description="Imagination-Augmented Agents in TensorFlow 2 + Sonnet 2, faithful to the paper and the talk.",
    python_requires=">=3.11,<3.12",
    packages=setuptools.find_packages(include=["i2a", "i2a.*", "envs", "envs.*", "launch", "launch.*", "testing", "testing.*"]),
    package_data={"launch": ["configs/*.flags"]},
    install_requires=INSTALL_REQUIRES,
    extras_require=EXTRAS_REQUIRE,
)
