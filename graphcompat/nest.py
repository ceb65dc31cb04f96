"""`tf.nest`: TF's nested-structure utilities with TF's semantics.

Sequences are lists, tuples, namedtuples and mappings (any `collections.abc.Mapping`); strings, bytes,
sets, numpy arrays, tensors and None are leaves. Mappings are visited in sorted key order (non-sortable
keys raise TypeError as in TF) and packed back with their own key order. Error classes and texts are
TF's (`assert_same_structure` reports the first mismatch found depth-first, then the whole structures).
`expand_composites=True` is accepted: graphcompat's composite tensors (SparseTensor) then flatten to
their component tensors, as TF's do.
"""
from __future__ import annotations

import collections
import collections.abc as _abc
from typing import Any, Callable

__all__ = ["assert_same_structure", "flatten", "is_nested", "map_structure", "pack_sequence_as"]


def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def _is_composite(x) -> bool:
    return hasattr(x, "indices") and hasattr(x, "values") and hasattr(x, "dense_shape") \
        and not isinstance(x, (list, tuple, dict))


def is_nested(seq) -> bool:
    """`tf.nest.is_nested`: True for lists, tuples (named too) and mappings; False for strings and leaves."""
    if isinstance(seq, (str, bytes, bytearray)):
        return False
    return isinstance(seq, (_abc.Sequence, _abc.Mapping))


def _is_seq(x, expand_composites: bool) -> bool:
    return is_nested(x) or (expand_composites and _is_composite(x))


def _sorted_keys(mapping) -> list:
    try:
        return sorted(mapping)
    except TypeError as e:
        raise TypeError(str(e)) from None


def _children(x, expand_composites: bool) -> list:
    if isinstance(x, _abc.Mapping):
        return [x[k] for k in _sorted_keys(x)]
    if expand_composites and _is_composite(x):
        return [x.indices, x.values, x.dense_shape]
    return list(x)


def flatten(structure, expand_composites: bool = False) -> list:
    """`tf.nest.flatten`: the leaves of `structure` depth-first, mappings by sorted key."""
    if not _is_seq(structure, expand_composites):
        return [structure]
    out = []
    for child in _children(structure, expand_composites):
        out += flatten(child, expand_composites)
    return out


def _sequence_like(instance, args: list):
    """A sequence of `instance`'s kind holding `args` (given in flatten order)."""
    if isinstance(instance, _abc.Mapping):
        result = dict(zip(_sorted_keys(instance), args))
        kind = type(instance)
        if kind is collections.defaultdict:
            d = collections.defaultdict(instance.default_factory)
            for key in instance:
                d[key] = result[key]
            return d
        return kind((key, result[key]) for key in instance)
    if _is_namedtuple(instance):
        return type(instance)(*args)
    if _is_composite(instance):
        return type(instance)(*args)
    if isinstance(instance, tuple):
        return tuple(args)
    try:
        return type(instance)(args)
    except TypeError:
        return list(args)


def _truncate(value, length: int = 100) -> str:
    text = str(value)
    return text[:length] + "..." if len(text) > length else text


def pack_sequence_as(structure, flat_sequence, expand_composites: bool = False):
    """`tf.nest.pack_sequence_as`: `flat_sequence`'s items in the shape of `structure`."""
    if not is_nested(flat_sequence):
        raise TypeError(f"Attempted to pack value:\n  {_truncate(flat_sequence)}\ninto a structure, but found "
                        f"incompatible type `{type(flat_sequence)}` instead.")
    flat = list(flat_sequence)
    if not _is_seq(structure, expand_composites):
        if len(flat) != 1:
            raise ValueError(f"The target structure is of type `{type(structure)}`\n  {_truncate(structure)}\n"
                             f"However the input is a sequence ({type(flat_sequence)}) of length {len(flat)}.\n"
                             f"  {_truncate(flat_sequence)}\nnest cannot guarantee that it is safe to map one to "
                             f"the other.")
        return flat[0]
    atoms = len(flatten(structure, expand_composites))
    if atoms != len(flat):
        raise ValueError(f"Could not pack sequence. Structure had {atoms} atoms, but flat_sequence had "
                         f"{len(flat)} items.  Structure: {structure}, flat_sequence: {flat_sequence}.")
    it = iter(flat)

    def build(s):
        if not _is_seq(s, expand_composites):
            return next(it)
        return _sequence_like(s, [build(c) for c in _children(s, expand_composites)])

    return build(structure)


def _describe(x) -> str:
    return f"type={type(x).__name__} str={x}"


class _Dot:
    def __repr__(self):
        return "."


def _same_structure(a, b, check_types: bool, expand_composites: bool) -> None:
    """The first mismatch of `a` and `b`, depth-first, as TF's AssertSameStructureHelper reports it."""
    seq_a, seq_b = _is_seq(a, expand_composites), _is_seq(b, expand_composites)
    if seq_a != seq_b:
        seq, other = (a, b) if seq_a else (b, a)
        raise ValueError(f"Substructure \"{_describe(seq)}\" is a sequence, while substructure "
                         f"\"{_describe(other)}\" is not")
    if not seq_a:
        return
    if check_types and type(a) is not type(b):
        both_mappings = isinstance(a, _abc.Mapping) and isinstance(b, _abc.Mapping)
        same_namedtuple = _is_namedtuple(a) and _is_namedtuple(b) and type(a).__name__ == type(b).__name__ \
            and type(a)._fields == type(b)._fields
        if not (both_mappings or same_namedtuple):
            raise TypeError(f"The two namedtuples don't have the same sequence type. First structure "
                            f"{_describe(a)} has type {type(a).__name__}, while second structure {_describe(b)} "
                            f"has type {type(b).__name__}")
    if isinstance(a, _abc.Mapping) and isinstance(b, _abc.Mapping):
        if set(a) != set(b):
            raise ValueError(f"The two dictionaries don't have the same set of keys. First structure has keys "
                             f"type=list str={list(a)}, while second structure has keys type=list str={list(b)}")
    ca, cb = _children(a, expand_composites), _children(b, expand_composites)
    for x, y in zip(ca, cb):
        _same_structure(x, y, check_types, expand_composites)
    if len(ca) != len(cb):
        raise ValueError(f"The two structures don't have the same number of elements. First structure: "
                         f"{_describe(a)}. Second structure: {_describe(b)}")


def assert_same_structure(nest1, nest2, check_types: bool = True, expand_composites: bool = False) -> None:
    """`tf.nest.assert_same_structure`: ValueError (shape of the nesting) or TypeError (sequence types)."""
    try:
        _same_structure(nest1, nest2, check_types, expand_composites)
    except (ValueError, TypeError) as e:
        dot = _Dot()
        raise type(e)(f"The two structures don't have the same nested structure.\n\nFirst structure: "
                      f"{_describe(nest1)}\n\nSecond structure: {_describe(nest2)}\n\nMore specifically: {e}\n"
                      f"Entire first structure:\n{map_structure(lambda _: dot, nest1)}\n"
                      f"Entire second structure:\n{map_structure(lambda _: dot, nest2)}") from None


def map_structure(func: Callable, *structure, **kwargs) -> Any:
    """`tf.nest.map_structure`: `func` applied to corresponding leaves; the result has structure[0]'s shape."""
    if not callable(func):
        raise TypeError(f"func must be callable, got: {func}")
    if not structure:
        raise ValueError("Must provide at least one structure")
    check_types = kwargs.pop("check_types", True)
    expand_composites = kwargs.pop("expand_composites", False)
    if kwargs:
        raise ValueError("Only valid keyword arguments are `check_types` and `expand_composites`, not: `"
                         + "`, `".join(kwargs) + "`")
    for other in structure[1:]:
        assert_same_structure(structure[0], other, check_types=check_types, expand_composites=expand_composites)
    flat = [flatten(s, expand_composites) for s in structure]
    return pack_sequence_as(structure[0], [func(*leaves) for leaves in zip(*flat)],
                            expand_composites=expand_composites)


def __getattr__(name):
    from graphcompat.compat import missing
    return missing(__name__, name)
