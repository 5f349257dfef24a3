"""khatui lab stand-ins for kubeadm, kubelet and the control-plane binaries (lab nodes only).

Real kubeadm, kubelet and kube-apiserver cannot be installed on the lab's machines, so these
Python programs take their place there, and only there: `khatui_lab.standins_install` copies this package to
/usr/local/lib/khatui-lab/khatui_lab_standins on a lab node and puts small launchers, each headed
"khatui lab stand-in", in /usr/local/bin. They check what they are given as strictly as the real
tools and do the minimum real work (write kubeadm's files, run static pods as processes, serve
/healthz over TLS), so the rest of a rollout runs for real. They run with the node's
/usr/bin/python3 and use only the standard library, PyYAML (Debian's python3-yaml) and openssl.

The modules use relative imports only, so they work both as `khatui_lab.standins` (host-side
unit tests) and as `khatui_lab_standins` (on a node).
"""
