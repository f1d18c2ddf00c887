"""Checks the deployment examples (examples/deploy): every YAML file
parses; every HEAPSWITCH_* name is one heapswitch knows (lib/env_names.h,
the backends' own);
backends are real ones; each HEAPSWITCH_LABELS value passes the library's
own check (the library preloaded into /bin/true, which must stay quiet);
and the pieces fit together: the writers' HEAPSWITCH_DIR is the volume the
exporter reads with --dir, the exporter sees the host's pid namespace,
Prometheus scrapes the exporter's port. Prints "ok:"/"FAIL:" lines.

usage: check_deploy.py SRCDIR LIBHEAPSWITCH"""
import glob
import os
import re
import subprocess
import sys
import tempfile

import yaml

srcdir, library = sys.argv[1], sys.argv[2]
deploy = os.path.join(srcdir, "examples", "deploy")
failures = 0


def check(condition, label):
    global failures
    print(("ok: " if condition else "FAIL: ") + label)
    if not condition:
        failures += 1
    return condition


# lib/env_names.h, and the backends' own (HEAPSWITCH_ARENA_CHUNK).
known = set()
for source in [os.path.join(srcdir, "lib", "env_names.h")] + \
        glob.glob(os.path.join(srcdir, "backends", "*.c")):
    known |= set(re.findall(r'"(HEAPSWITCH_[A-Z0-9_]+)"', open(source).read()))
check("HEAPSWITCH_DIR" in known and "HEAPSWITCH_LABELS" in known,
      "heapswitch knows %d variables" % len(known))
backends = {"system", "jemalloc", "mimalloc", "arena"}

files = sorted(glob.glob(os.path.join(deploy, "**", "*"), recursive=True))
files = [f for f in files if os.path.isfile(f)]
documents = {}
for path in files:
    name = os.path.relpath(path, srcdir)
    text = open(path).read()
    for variable in sorted(set(re.findall(r"HEAPSWITCH_[A-Z0-9_]+", text))):
        check(variable in known, "%s: %s is a variable heapswitch knows" % (name, variable))
    if path.endswith((".yml", ".yaml")):
        try:
            documents[name] = [d for d in yaml.safe_load_all(text) if d is not None]
            check(True, "%s: well-formed YAML (%d document(s))" % (name, len(documents[name])))
        except yaml.YAMLError as error:
            check(False, "%s: not well-formed YAML: %s" % (name, error))


def labels_accepted(value, where):
    """The library's own check: preloaded into /bin/true with these labels."""
    with tempfile.TemporaryDirectory() as directory:
        os.chmod(directory, 0o700)
        environment = {"PATH": "/usr/bin:/bin", "LD_PRELOAD": library,
                       "HEAPSWITCH_DIR": directory, "HEAPSWITCH_LABELS": value}
        run = subprocess.run(["/bin/true"], env=environment, capture_output=True, text=True)
    check(run.returncode == 0 and run.stderr == "",
          "%s: HEAPSWITCH_LABELS=%s accepted by the library %s" % (where, value, run.stderr.strip()))


def check_environment(environment, where, expand):
    """environment: name -> value (None when not a plain value)."""
    backend = environment.get("HEAPSWITCH_BACKEND")
    if backend is not None:
        check(backend in backends, "%s: HEAPSWITCH_BACKEND=%s is a backend" % (where, backend))
    labels = environment.get("HEAPSWITCH_LABELS")
    if labels is not None:
        labels_accepted(expand(labels), where)
    directory = environment.get("HEAPSWITCH_DIR")
    if directory is not None:
        check(directory.startswith("/"), "%s: HEAPSWITCH_DIR is absolute" % where)
    return directory


def dir_option(command):
    return command[command.index("--dir") + 1] if "--dir" in command else None


# ---- docker-compose.yml -------------------------------------------------
compose = documents.get("examples/deploy/docker-compose.yml", [{}])[0]
services = compose.get("services", {})
writers = {n: s for n, s in services.items() if "HEAPSWITCH_BACKEND" in s.get("environment", {})}
check(len({s["environment"]["HEAPSWITCH_BACKEND"] for s in writers.values()}) >= 2,
      "compose: servers under two backends (%s)" % ", ".join(sorted(writers)))
exporters = [s for s in services.values() if s.get("command", [])[:2] == ["heapswitch", "export"]]
if check(len(exporters) == 1, "compose: one exporter"):
    exporter = exporters[0]
    read = dir_option(exporter["command"])
    check(exporter.get("pid") == "host", "compose: the exporter is in the host's pid namespace")
    exporter_volumes = {v.split(":")[1]: v.split(":")[0] for v in exporter.get("volumes", [])}
    for name, service in sorted(writers.items()):
        where = "compose: " + name
        directory = check_environment(service["environment"], where, lambda v: v)
        volumes = {v.split(":")[1]: v.split(":")[0] for v in service.get("volumes", [])}
        check(directory == read and directory in volumes and
              volumes.get(directory) == exporter_volumes.get(read),
              "%s: writes to %s, the volume the exporter reads with --dir" % (where, directory))
    listen = exporter["command"][exporter["command"].index("--listen") + 1]
    prometheus = documents.get("examples/deploy/prometheus.yml", [{}])[0]
    targets = [t for job in prometheus.get("scrape_configs", [])
               for sc in job.get("static_configs", []) for t in sc.get("targets", [])]
    exporter_name = [n for n, s in services.items() if s is exporter][0]
    check("%s:%s" % (exporter_name, listen.rsplit(":", 1)[1]) in targets,
          "compose: Prometheus scrapes the exporter (%s)" % ", ".join(targets))

# ---- kubernetes/ ----------------------------------------------------------
objects = [d for name, docs in documents.items() if "/kubernetes/" in name for d in docs
           if isinstance(d, dict) and "kind" in d]
daemonsets = [o for o in objects if o["kind"] == "DaemonSet"]
deployments = [o for o in objects if o["kind"] == "Deployment"]


def host_paths(pod):
    return {v["name"]: v["hostPath"]["path"] for v in pod.get("volumes", []) if "hostPath" in v}


def mounts(container):
    return {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}


if check(len(daemonsets) == 1, "kubernetes: one DaemonSet (the exporter)"):
    template = daemonsets[0]["spec"]["template"]
    pod = template["spec"]
    exporter = [c for c in pod["containers"] if c.get("args", [])[:2] == ["heapswitch", "export"]]
    check(pod.get("hostPID") is True, "kubernetes: the exporter has hostPID")
    annotations = template["metadata"].get("annotations", {})
    if check(len(exporter) == 1, "kubernetes: the DaemonSet runs heapswitch export"):
        exporter = exporter[0]
        port = str(exporter["ports"][0]["containerPort"])
        check(annotations.get("prometheus.io/scrape") == "true" and
              annotations.get("prometheus.io/port") == port,
              "kubernetes: scrape annotations for port %s" % port)
        read = dir_option(exporter["args"])
        node_dir = host_paths(pod).get(mounts(exporter).get(read))
        check(node_dir is not None, "kubernetes: the exporter reads the node's %s" % node_dir)
        library_dirs = set(host_paths(pod).values()) - {node_dir}
        for deployment in deployments:
            spec = deployment["spec"]["template"]["spec"]
            for container in spec["containers"]:
                where = "kubernetes: %s/%s" % (deployment["metadata"]["name"], container["name"])
                plain = {e["name"]: e.get("value") for e in container.get("env", [])}
                fields = {e["name"]: e["valueFrom"]["fieldRef"]["fieldPath"]
                          for e in container.get("env", []) if "fieldRef" in e.get("valueFrom", {})}
                check({"metadata.name", "metadata.namespace"} <= set(fields.values()),
                      "%s: pod name and namespace from the Downward API" % where)
                sample = {"metadata.name": "shop-api-5d9c7-x2x4q", "metadata.namespace": "shop"}
                expand = lambda v: re.sub(r"\$\((\w+)\)",
                                          lambda m: sample.get(fields.get(m.group(1)), "x"), v)
                directory = check_environment(plain, where, expand)
                paths = host_paths(spec)
                check(paths.get(mounts(container).get(directory)) == node_dir,
                      "%s: HEAPSWITCH_DIR %s is the node's %s" % (where, directory, node_dir))
                preload = plain.get("LD_PRELOAD", "")
                mounted = [m for m in container.get("volumeMounts", [])
                           if preload.startswith(m["mountPath"] + "/")]
                check(len(mounted) == 1 and mounted[0].get("readOnly") is True and
                      paths.get(mounted[0]["name"]) in library_dirs,
                      "%s: LD_PRELOAD=%s from the library the DaemonSet installs, read-only"
                      % (where, preload))
check(len(deployments) >= 2, "kubernetes: %d deployments of the service" % len(deployments))

sys.exit(1 if failures else 0)
