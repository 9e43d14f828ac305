"""Record and replay: the cassette format, the record/replay middleware, the upstream proxy, verify."""
