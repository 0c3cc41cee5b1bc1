"""Test ordering for `make test` (pytest-xdist, --dist loadgroup).

The Ray tests are one xdist group that one worker runs serially, the longest
unit of the suite; collected first, it starts at once and the other worker
takes everything else beside it, instead of it starting halfway and running
alone at the end.
"""

FIRST_GROUPS = ('ray',)


def _group(item) -> str:
  marker = item.get_closest_marker('xdist_group')
  if marker is None:
    return ''
  return marker.args[0] if marker.args else marker.kwargs.get('name', '')


def pytest_collection_modifyitems(items):
  items.sort(key=lambda item: _group(item) not in FIRST_GROUPS)
