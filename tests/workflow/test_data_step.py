"""The workflow's `data` step links the assets; what stands in a link's way is handled."""
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _data(project: Path, local_data: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO / "scripts" / "workflow.py"), "data", "--local-data", str(local_data)],
        cwd=project, capture_output=True, text=True,
    )


def test_a_link_to_data_that_moved_is_made_again(shared_data: Path, tmp_path: Path) -> None:
    shutil.copy(REPO / "project.yml", tmp_path)
    stale = tmp_path / "assets" / "conll2002" / "esp.train"
    stale.parent.mkdir(parents=True)
    stale.symlink_to(tmp_path / "moved" / "esp.train")
    result = _data(tmp_path, shared_data)
    assert result.returncode == 0, result.stdout + result.stderr
    assert stale.resolve() == (shared_data / "conll2002" / "esp.train").resolve()


def test_a_file_in_the_assets_way_is_a_coded_error(shared_data: Path, tmp_path: Path) -> None:
    shutil.copy(REPO / "project.yml", tmp_path)
    (tmp_path / "assets").write_text("not a folder")
    result = _data(tmp_path, shared_data)
    output = " ".join(result.stdout.split())
    assert result.returncode == 1 and "[E225]" in output and "assets is a file" in output
