"""Maps the top-level resources/ folder into the installed package as cnnstudio/resources."""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["cnnstudio", "cnnstudio.*"]) + ["cnnstudio.resources"],
    package_dir={"cnnstudio.resources": "resources"},
    package_data={"cnnstudio.resources": ["*.npz", "*.txt", "*.md", "templates/*", "icons/*", "icons/**/*", "styles/*"]},
    include_package_data=False,
)
