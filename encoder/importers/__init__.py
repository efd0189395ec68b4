"""Importers: public raw recordings of other tools -> encoder shards.

Each reads a recording's raw files and writes one shard with our streams, units and signs
(docs/importers.md has the mapping tables): :func:`import_ducktrack` (DuckTrack's
``events.jsonl``) and :func:`import_agentnet` (an AgentNet/OpenCUA episode: events, focused
app, optionally the screen video's frames). Both return a summary: rows per stream and the
events skipped, by kind (never dropped silently).
"""
from .agentnet import import_agentnet
from .ducktrack import import_ducktrack

#: Format name -> importer (the ``encoder import`` command's choices).
IMPORTERS = {"agentnet": import_agentnet, "ducktrack": import_ducktrack}

__all__ = ["IMPORTERS", "import_agentnet", "import_ducktrack"]
