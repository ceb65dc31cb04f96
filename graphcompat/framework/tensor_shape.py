"""TF1's `Dimension` and `TensorShape`: partially known static shapes, printed as `(?, 10)`."""
from __future__ import annotations

from typing import Iterable, Optional


class Dimension:
    """One dimension of a static shape; `value` is None when unknown.

    Immutable. A known dimension is one shared object per size (`_KNOWN`): shapes hold one
    Dimension per axis, and a 10k-node graph otherwise holds ~12k of them for Python's collector to scan.
    Unknown dimensions stay distinct objects: `Dimension(None) == Dimension(None)` is None (TF1), so lists
    and tuples of them compare equal only when they hold the same objects, as in TF1, where each is new."""

    __slots__ = ("_value",)

    def __new__(cls, value):
        if value.__class__ is int:  # the common case: a size met before
            dim = _KNOWN.get(value)
            if dim is not None:
                return dim
        if isinstance(value, Dimension):
            value = value.value
        self = object.__new__(cls)
        if value is None:
            self._value = None
            return self
        if isinstance(value, int):  # an int subclass (bool) is kept as it is, as TF keeps it
            ivalue = value
        else:
            # TF takes only what has __index__: a float, a string or a numpy float is a TypeError, and an
            # array's own __index__ error (a non-scalar) passes through
            try:
                index = value.__index__
            except AttributeError:
                raise TypeError(f"Dimension value must be integer or None or have an __index__ method, "
                                f"got value '{value!r}' with type '{type(value)!r}'") from None
            ivalue = int(index())
        if ivalue < 0:
            raise ValueError(f"Dimension {ivalue} must be >= 0")
        if ivalue.__class__ is not int:
            self._value = ivalue
            return self
        dim = _KNOWN.get(ivalue)
        if dim is not None:
            return dim
        self._value = ivalue
        if len(_KNOWN) < _KNOWN_LIMIT:
            _KNOWN[ivalue] = self
        return self

    def __reduce__(self):
        # rebuilt through __new__ (pickle's default would set `_value` on an object a shared one may be)
        return Dimension, (self._value,)

    @property
    def value(self) -> Optional[int]:
        return self._value

    def __repr__(self) -> str:
        return f"Dimension({self._value!r})"

    def __str__(self) -> str:
        return "?" if self._value is None else str(self._value)

    def __int__(self) -> int:
        return self._value

    def __index__(self) -> int:
        return self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __eq__(self, other):
        try:
            other = as_dimension(other)
        except (TypeError, ValueError):
            return NotImplemented
        if self._value is None or other.value is None:
            return None
        return self._value == other.value

    def __ne__(self, other):
        eq = self.__eq__(other)
        return eq if eq is None or eq is NotImplemented else not eq

    def __bool__(self) -> bool:
        return bool(self._value)

    def is_compatible_with(self, other) -> bool:
        other = as_dimension(other)
        return self._value is None or other.value is None or self._value == other.value

    def assert_is_compatible_with(self, other) -> None:
        if not self.is_compatible_with(other):
            raise ValueError(f"Dimensions {self} and {other} are not compatible")

    def merge_with(self, other) -> "Dimension":
        other = as_dimension(other)
        self.assert_is_compatible_with(other)
        return Dimension(self._value if self._value is not None else other.value)

    def _arith(self, other, fn):
        other = as_dimension(other)
        if self._value is None or other.value is None:
            return Dimension(None)
        return Dimension(fn(self._value, other.value))

    def __add__(self, other):
        return self._arith(other, lambda a, b: a + b)

    __radd__ = __add__

    def __sub__(self, other):
        return self._arith(other, lambda a, b: a - b)

    def __rsub__(self, other):
        return as_dimension(other) - self

    def __mul__(self, other):
        return self._arith(other, lambda a, b: a * b)

    __rmul__ = __mul__

    def __floordiv__(self, other):
        return self._arith(other, lambda a, b: a // b)

    def __rfloordiv__(self, other):
        return as_dimension(other) // self

    def __mod__(self, other):
        return self._arith(other, lambda a, b: a % b)

    def __truediv__(self, other):
        # TF1's Dimension.__div__ is floor division; `E ** 0.5` style use needs plain numbers.
        return self // other

    def __pow__(self, exponent):
        return self._value ** exponent if self._value is not None else None

    def _cmp(self, other, fn):
        other = as_dimension(other)
        if self._value is None or other.value is None:
            return None
        return fn(self._value, other.value)

    def __lt__(self, other):
        return self._cmp(other, lambda a, b: a < b)

    def __le__(self, other):
        return self._cmp(other, lambda a, b: a <= b)

    def __gt__(self, other):
        return self._cmp(other, lambda a, b: a > b)

    def __ge__(self, other):
        return self._cmp(other, lambda a, b: a >= b)

    def __float__(self) -> float:
        return float(self._value)


# Known dimensions by value, each created on first use and shared from then on (the first _KNOWN_LIMIT
# distinct sizes a process meets: later ones are new objects, as all were before).
_KNOWN_LIMIT = 1 << 14
_KNOWN: dict = {}


def as_dimension(value) -> Dimension:
    return value if isinstance(value, Dimension) else Dimension(value)


def dimension_value(dimension):
    return dimension.value if isinstance(dimension, Dimension) else dimension


class TensorShape:
    """A static shape: unknown rank (`dims is None`), or a tuple of possibly-unknown Dimensions.

    Immutable. The unknown shape and a fully known shape built from Python ints are one shared object per
    value (`_SHAPES`: each tensor of a graph holds a shape, and Python's collector scans every one of them);
    a shape with an unknown dimension is new each time (see Dimension)."""

    __slots__ = ("_dims",)

    def __new__(cls, dims: Optional[Iterable] = None):
        if dims.__class__ is list or dims.__class__ is tuple:
            key = tuple(dims)
            try:
                shape = _SHAPES.get(key)
            except TypeError:  # an unhashable element: not a shape of ints (refused below, or converted)
                shape = None
            if shape is not None and _all_ints(key):  # (5.0,) finds (5,): equal, but converted below
                return shape
        elif dims is None:
            return _UNKNOWN_RANK
        self = object.__new__(cls)
        if isinstance(dims, TensorShape):
            self._dims = dims._dims
        elif hasattr(dims, "dim") and hasattr(dims, "unknown_rank"):  # TensorShapeProto
            self._dims = None if dims.unknown_rank else tuple(
                Dimension(None if d.size == -1 else d.size) for d in dims.dim)
        else:
            if isinstance(dims, (str, bytes)):
                raise TypeError(f"Cannot convert {dims!r} to a TensorShape")
            try:
                seq = list(dims)
            except TypeError:  # a single integer: a vector shape
                seq = [dims]
            self._dims = tuple([d if d.__class__ is Dimension else Dimension(d) for d in seq])
            if (dims.__class__ is list or dims.__class__ is tuple) and len(_SHAPES) < _SHAPES_LIMIT \
                    and _all_ints(key):
                _SHAPES[key] = self
        return self

    # --- views --------------------------------------------------------------------------------
    @property
    def dims(self):
        return None if self._dims is None else list(self._dims)

    @property
    def ndims(self) -> Optional[int]:
        return None if self._dims is None else len(self._dims)

    rank = ndims

    def as_list(self) -> list:
        if self._dims is None:
            raise ValueError("as_list() is not defined on an unknown TensorShape.")
        return [d.value for d in self._dims]

    def as_tuple_or_none(self):
        """Internal: `None` for unknown rank, else a tuple of ints/None."""
        return None if self._dims is None else tuple(d.value for d in self._dims)

    def num_elements(self) -> Optional[int]:
        if not self.is_fully_defined():
            return None
        n = 1
        for d in self._dims:
            n *= d.value
        return n

    def is_fully_defined(self) -> bool:
        return self._dims is not None and all(d.value is not None for d in self._dims)

    def assert_is_fully_defined(self) -> None:
        if not self.is_fully_defined():
            raise ValueError(f"Shape {self} is not fully defined")

    # --- algebra ------------------------------------------------------------------------------
    def is_compatible_with(self, other) -> bool:
        other = as_shape(other)
        if self._dims is None or other._dims is None:
            return True
        if len(self._dims) != len(other._dims):
            return False
        return all(a.is_compatible_with(b) for a, b in zip(self._dims, other._dims))

    def assert_is_compatible_with(self, other) -> None:
        if not self.is_compatible_with(other):
            raise ValueError(f"Shapes {self} and {other} are incompatible")

    def merge_with(self, other) -> "TensorShape":
        other = as_shape(other)
        if self._dims is None:
            return other
        if other._dims is None:
            return self
        if len(self._dims) != len(other._dims) or not self.is_compatible_with(other):
            raise ValueError(f"Shapes {self} and {other} are not compatible")
        return TensorShape([a.merge_with(b) for a, b in zip(self._dims, other._dims)])

    def concatenate(self, other) -> "TensorShape":
        other = as_shape(other)
        if self._dims is None or other._dims is None:
            return unknown_shape()
        return TensorShape(self._dims + other._dims)

    def with_rank(self, rank: int) -> "TensorShape":
        if self._dims is None:
            return unknown_shape(rank)
        if len(self._dims) != rank:
            raise ValueError(f"Shape {self} must have rank {rank}")
        return self

    def assert_has_rank(self, rank: int) -> None:
        """TF's: raises ValueError unless the rank is unknown or `rank`."""
        if self._dims is not None and len(self._dims) != rank:
            raise ValueError(f"Shape {self} must have rank {rank}")

    def with_rank_at_least(self, rank: int) -> "TensorShape":
        if self._dims is not None and len(self._dims) < rank:
            raise ValueError(f"Shape {self} must have rank at least {rank}")
        return self

    def with_rank_at_most(self, rank: int) -> "TensorShape":
        if self._dims is not None and len(self._dims) > rank:
            raise ValueError(f"Shape {self} must have rank at most {rank}")
        return self

    def most_specific_compatible_shape(self, other) -> "TensorShape":
        other = as_shape(other)
        if self._dims is None or other._dims is None or len(self._dims) != len(other._dims):
            return unknown_shape()
        return TensorShape([a if a.value == b.value else None for a, b in zip(self._dims, other._dims)])

    def as_proto(self):
        from tensorboard.compat.proto import tensor_shape_pb2
        if self._dims is None:
            return tensor_shape_pb2.TensorShapeProto(unknown_rank=True)
        return tensor_shape_pb2.TensorShapeProto(
            dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=-1 if d.value is None else d.value)
                 for d in self._dims])

    # --- python protocol ----------------------------------------------------------------------
    def __len__(self) -> int:
        if self._dims is None:
            raise ValueError("Cannot take the length of shape with unknown rank.")
        return len(self._dims)

    def __bool__(self) -> bool:
        return self._dims is not None

    def __iter__(self):
        if self._dims is None:
            raise ValueError("Cannot iterate over a shape with unknown rank.")
        return iter(self._dims)

    def __getitem__(self, key):
        if self._dims is not None:
            if isinstance(key, slice):
                return TensorShape(self._dims[key])
            return self._dims[key]
        if isinstance(key, slice):
            return unknown_shape()
        return Dimension(None)

    def __eq__(self, other):
        try:
            other = as_shape(other)
        except TypeError:
            return NotImplemented
        return self._dims == other._dims

    def __ne__(self, other):
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self):
        return hash(self.as_tuple_or_none())

    def __add__(self, other):
        return self.concatenate(other)

    def __radd__(self, other):
        return as_shape(other).concatenate(self)

    def __str__(self) -> str:
        if self._dims is None:
            return "<unknown>"
        if len(self._dims) == 1:
            return f"({self._dims[0]},)"
        return "(" + ", ".join(str(d) for d in self._dims) + ")"

    def __repr__(self) -> str:
        if self._dims is None:
            return "TensorShape(None)"
        return f"TensorShape([{', '.join(repr(d) for d in self._dims)}])"

    def __reduce__(self):
        return TensorShape, (self.as_tuple_or_none(),)


def _all_ints(values: tuple) -> bool:
    for v in values:
        if v.__class__ is not int:
            return False
    return True


# Fully known shapes by their sizes (the first _SHAPES_LIMIT distinct ones), and the unknown shape.
_SHAPES_LIMIT = 1 << 14
_SHAPES: dict = {}
_UNKNOWN_RANK = object.__new__(TensorShape)
_UNKNOWN_RANK._dims = None


def as_shape(shape) -> TensorShape:
    return shape if isinstance(shape, TensorShape) else TensorShape(shape)


def unknown_shape(rank: Optional[int] = None, **_) -> TensorShape:
    return TensorShape(None) if rank is None else TensorShape([None] * rank)


def scalar() -> TensorShape:
    return TensorShape([])


def vector(length) -> TensorShape:
    return TensorShape([length])


def matrix(rows, cols) -> TensorShape:
    return TensorShape([rows, cols])
