"""tf.data execution: input pipelines built from the graph's dataset ops.

The front end (graphcompat/data) records TF's dataset ops and nothing else: op type, inputs, attrs, and
its functions as FunctionDefs of the graph's library. The back end reads the program from the graph:

- `pipeline.py`: one node class per dataset op type (`@pipeline_node`, like `@lowers`), built once per
  op from its attrs, the static values of its inputs (constant folding), its functions (looked up by
  their func attrs, evaluated by the interpreter) and the nodes of its input datasets (the variant
  inputs' producing ops); running a dataset op binds its node to the inputs' values (`Bound`);
- `sources.py`, `transformations.py`, `readers.py`, `more.py` (window, scan, group_by_window …): the
  nodes, each with a host walk (`_iter`) and, for in-memory pipelines, a device walk (`_dev_elem`,
  periodic indexing);
- `imported.py`: the op types TF-written graphs hold that graphcompat's builders rarely record
  (map_and_batch, shuffle_and_repeat, TF 1.x's v1 ops, Experimental* names, pass-through ops);
- `device.py`: `device_plan` (which pipelines walk on the device, what the host tells each step) and the
  shuffle orders; `static.py`: small constant subgraphs (seeds) evaluated when a node is built.

Iterators and their state: lowering/rules/data.py.
"""
from lowering.data import more, readers, sources, transformations  # noqa: F401  (register the node classes)
from lowering.data import imported  # noqa: F401,E402  (the op types TF-written graphs hold)
from lowering.data.device import (DevicePlan, buffered_order, device_plan, epoch_seeds, mix32,  # noqa: F401
                                  random_shuffle_seeds)
from lowering.data.pipeline import (AUTOTUNE, INF, NODE_TYPES, Bound, Function, Node,  # noqa: F401
                                    dataset_op_of, node_of)
