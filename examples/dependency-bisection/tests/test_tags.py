from releases.tags import newest, release_notes_url


def test_newest_orders_by_version_not_text():
    assert newest(["1.2", "1.10", "1.9"]) == "1.10"


def test_non_version_tags_never_win():
    assert newest(["snapshot", "1.2", "1.10"]) == "1.10"


def test_release_notes_url():
    assert release_notes_url("https://git.example/app/", "1.10") == "https://git.example/app/releases/tag/1.10"
