"The data loader on the real archive, and its errors."
import numpy as np, pytest, torch
from conftest import real_archive
from fgr.data import load_cifar10, decode_archive, ARCHIVE_NAME, JPEG_SOURCE

archive = real_archive()

@pytest.mark.skipif(archive is None, reason='no offline CIFAR-10 archive on this machine')
def test_real_archive_counts_and_statistics():
    d = load_cifar10(archive)
    assert d.source == JPEG_SOURCE
    assert d.train_x.shape == (50_000, 3, 32, 32) and d.test_x.shape == (10_000, 3, 32, 32)
    assert d.train_x.dtype == torch.uint8 and d.train_y.dtype == torch.int64
    assert torch.bincount(d.train_y).tolist() == [5000] * 10 and torch.bincount(d.test_y).tolist() == [1000] * 10
    x = d.train_x.float() / 255   # the archive README's decoded statistics, to 3 decimals
    assert np.allclose(x.mean((0, 2, 3)).numpy(), (0.491, 0.482, 0.447), atol=6e-4)
    assert np.allclose(x.std((0, 2, 3)).numpy(), (0.245, 0.243, 0.261), atol=6e-4)
    assert len(set(d.train_y[:20].tolist())) > 3   # shuffled: the archive itself is grouped by class

def test_wrong_checksum(tmp_path):
    bad = tmp_path/ARCHIVE_NAME
    np.savez(bad, train_labels=np.zeros(3, np.uint8))
    with pytest.raises(ValueError, match='bad checksum'): load_cifar10(bad)

def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='FGR_DATA'): decode_archive(tmp_path/'nope.npz')

def test_no_source_says_what_was_tried(tmp_path, monkeypatch):
    import fgr.data
    monkeypatch.delenv('FGR_DATA', raising=False)
    monkeypatch.setenv('FGR_OFFLINE', '1')
    monkeypatch.setenv('FGR_CACHE', str(tmp_path))
    monkeypatch.setattr(fgr.data, 'shared_archive', lambda: tmp_path/'absent.npz')
    with pytest.raises(FileNotFoundError) as e: load_cifar10()
    msg = str(e.value)
    assert 'FGR_DATA: not set' in msg and 'FGR_OFFLINE' in msg and 'absent.npz' in msg and 'Fix:' in msg
