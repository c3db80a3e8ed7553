from pathlib import Path

from setuptools import find_packages, setup

ROOT = Path(__file__).parent

setup(
    name="kiosk",
    version="0.1.0",
    description="Queue tickets and satisfaction ratings for Vietnam's commune one-stop counters (Raspberry Pi kiosk).",
    long_description=(ROOT / "README.md").read_text(encoding="utf-8") if (ROOT / "README.md").exists() else "",
    long_description_content_type="text/markdown",
    python_requires=">=3.11",
    packages=find_packages(
        include=[f"{p}{s}" for p in ("kiosk", "web", "hardware", "sync", "common", "central") for s in ("", ".*")]
    ),
    include_package_data=True,
    package_data={
        "kiosk": ["migrations/*.py", "migrations/*.mako", "migrations/versions/*.py"],
        "web": ["templates/**/*", "static/**/*"],
        "hardware": ["sounds/**/*"],
        "common": ["web/translations/*/LC_MESSAGES/*.po"],
        "central": [
            "migrations/*.py",
            "migrations/*.mako",
            "migrations/versions/*.py",
            "templates/**/*",
            "static/**/*",
        ],
    },
    install_requires=[
        "flask>=3.0",
        "flask-babel>=4.0",
        "sqlalchemy>=2.0",
        "alembic>=1.13",
        "gpiozero>=2.0",
        "python-escpos>=3.1",
        "pillow>=10",
        "qrcode>=7.4",
        "requests>=2.31",
        "waitress>=3.0",
        "num2words>=0.5.13",
        "click>=8.1",
        "tzdata",
        "orjson>=3.9",
    ],
    extras_require={
        "pi": ["lgpio>=0.2", "pyusb>=1.2", "pyserial>=3.5"],  # GPIO, and USB/serial ticket printers
        "cups": ["pycups>=2.0"],  # printing through a CUPS queue (needs libcups2-dev to build)
        "central": ["psycopg[binary]>=3.1", "openpyxl>=3.1", "python-docx>=1.1", "msgspec>=0.18"],
        "test": [
            "msgspec>=0.18",
            "pytest>=8",
            "pytest-timeout>=2.3",
            "pytest-xdist>=3.5",  # the README's test command runs the suite on several workers (-n)
            "pytest-postgresql>=6",
            "psycopg[binary]>=3.1",
            "openpyxl>=3.1",
            "python-docx>=1.1",
            "playwright>=1.45",
            "ruff>=0.5",
            "import-linter>=2.17",  # .ci/run: the import contracts between the parts (pyproject.toml)
            "wheel",  # tests/deploy/test_install.py builds the package offline (pip --no-build-isolation)
            "pyserial>=3.5",  # tests/kiosk/test_printer_transports.py: a serial printer on a pty
            "pycups>=2.0",  # ... and a CUPS queue (builds against libcups2-dev: see .ci/run)
            "zxing-cpp>=2.2",  # tests/kiosk/test_phone_browser.py reads the QR code back from the printed raster
        ],
    },
    entry_points={
        "console_scripts": [
            "kiosk=kiosk.cli:run_cli",
            "kiosk-central=central.cli:run_cli",
        ]
    },
)
