"""The cluster's PKI: certificate authorities, every certificate the nodes need, and their local store.

The package is a pure core with two disk edges. `catalog` describes, from the spec alone, every
certificate and where each file goes on each node; `keys`, `authority` and `issue` turn that
description into keys and certificates in memory; `reconcile` compares the description with what
the store holds and decides what to (re)issue, with a reason; `build` carries the decisions out and
returns PEM bytes; `inspect` and `status` summarise certificates without touching key material;
`rotation` writes out the CA rotation procedure; `prefetch` starts RSA key generation while the
spec is still being loaded. Only `store` (the local PKI store, read and
written) and `ca_files` (the CA files an operator imports, read only) touch the disk.

Nothing in this package logs or prints; private keys only leave it as PEM bytes handed to the store.
"""
