"""Start the IPython kernel *inside* the sandbox, after taking a snapshot the grader can check.

``python -m dlcourse.grading.kernel_guard [--protect numpy,torch.testing,...] -f CONNECTION_FILE``

Before any student code runs it (1) imports the protected packages (those the instructor's
cells import) with the working directory removed from ``sys.path``, so a submitted
``numpy.py`` or ``torch.py`` cannot stand in for them; (2) starts ipykernel and records the
functions of those packages, of ``builtins``, and the IPython/ipykernel hooks that decide
whether an error is reported (custom exception handlers, AST and input transformers,
``showtraceback``, the kernel's execute path, ...).

The grader then calls, around every autograded test cell:

* ``pre(nonce)``: put back everything the student's code replaced (and say what), stop the
  notebook's other processes, suspend its event callbacks, import hooks, gc callbacks,
  timers, signal handlers, and give instructor names (``assert_close``, ``np``, ...) back
  their original objects for the duration of the test;
* ``post(nonce)``: check nothing was replaced *during* the test (if it was, the grader
  voids the test's points), then give the student's notebook its own state back.

Both end by raising :class:`DLCourseGuardReport` with a JSON report: the grader expects an
*error* reply carrying its nonce, so a kernel that swallows errors is noticed as well.
This is defence in depth inside a process the student controls: it stops the known tricks
and leaves a trace; the hard guarantees (nothing of the course or of other students is
reachable, limits, scores computed by the grader) come from the sandbox around it.
"""
from __future__ import annotations

import builtins
import gc
import hmac
import importlib
import json
import os
import signal
import sys
import threading
import types

__all__ = ["GUARD_MODULE", "DLCourseGuardReport", "Guard", "main"]

GUARD_MODULE = "_dlcourse_guard"
_MISSING = object()
# Library modules whose functions tests commonly rely on (protected when their package is).
_TESTING_MODULES = {
    "numpy": ["numpy.testing", "numpy.testing._private.utils", "numpy._core.numeric", "numpy.core.numeric",
              "numpy.linalg"],
    "torch": ["torch.testing", "torch.testing._comparison", "torch.nn", "torch.nn.functional",
              "torch.nn.modules.module", "torch.nn.modules.conv", "torch.nn.modules.linear",
              "torch.functional", "torch._tensor"],
    "sklearn": ["sklearn.metrics"],
}
_TESTING_CLASSES = ["torch.Tensor", "torch.nn.Module", "torch.nn.Parameter", "torch.nn.Conv2d", "torch.nn.Linear",
                    "torch.testing._comparison.TensorLikePair", "torch.testing._comparison.NumberPair",
                    "torch.testing._comparison.Pair", "torch.testing._comparison.ErrorMeta",
                    "unittest.case.TestCase"]
# Library code that legitimately rebinds a protected name to a wrapper of the original
# (``__wrapped__``): importing torch._dynamo wraps torch.manual_seed.
_LIBRARY_REBINDS = {("torch", "manual_seed")}
# builtins entries IPython itself adds/removes around every cell
_VOLATILE = {
    "builtins": {"_", "__", "___", "exit", "quit", "get_ipython", "display", "__IPYTHON__", "input", "raw_input"},
    "sys": {"displayhook", "excepthook", "stdout", "stderr", "stdin", "last_type", "last_value", "last_traceback",
            "last_exc"},
}
_SHELL_HOOKS = ("custom_exceptions", "CustomTB", "InteractiveTB", "SyntaxTB", "displayhook", "display_pub",
                "display_trap", "builtin_trap", "compile", "input_transformer_manager", "events",
                "history_manager", "payload_manager")
_SHELL_LISTS = ("ast_transformers", "input_transformers_post", "input_transformers_cleanup")
_ITM_LISTS = ("cleanup_transforms", "line_transforms", "token_transformers")
_TIMER_SIGNALS = tuple(getattr(signal, n) for n in ("SIGALRM", "SIGVTALRM", "SIGPROF", "SIGUSR1", "SIGUSR2",
                                                      "SIGCHLD", "SIGHUP", "SIGTERM", "SIGIO", "SIGWINCH")
                       if hasattr(signal, n))


class DLCourseGuardReport(Exception):
    """Raised on purpose by every guard call; its message is the JSON report."""


def _same(a: object, b: object) -> bool:
    """Identity, treating two bound methods of the same function and object as the same."""
    if a is b:
        return True
    fa = getattr(a, "__func__", None)
    return fa is not None and fa is getattr(b, "__func__", None) and \
        getattr(a, "__self__", None) is getattr(b, "__self__", None)


def _trusted_roots() -> tuple[str, ...]:
    """Folders of code the student cannot have written: the standard library, the environment's
    site-packages and the course package (read-only inside the sandbox). Taken at boot, before any
    notebook code runs."""
    import sysconfig

    roots = {sysconfig.get_paths().get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    roots.add(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the dlcourse package
    return tuple(sorted({os.path.realpath(r) for r in roots if r}))


_TRUSTED_ROOTS = _trusted_roots()


def _is_cell_file(filename: str) -> bool:
    """True for code the student wrote: a notebook cell (IPython names them ``<ipython-input...>`` or
    ``.../ipykernel_<pid>/<hash>.py``), ``exec`` of a string, or any file outside the trusted roots
    (a module the notebook wrote, e.g. into /tmp). Where the environment itself lives does not
    matter: a checkout under /tmp has its site-packages under /tmp too."""
    if filename.startswith("<"):
        return filename.startswith(("<ipython-input", "<string>"))  # not <frozen ...>: the standard library
    if "/ipykernel_" in filename:
        return True
    real = os.path.realpath(filename)
    return not any(real.startswith(root + os.sep) for root in _TRUSTED_ROOTS)


class Guard:
    """Snapshot of the kernel's trusted state, checked and restored around test cells."""

    def __init__(self, shell, kernel, protect: list[str], sign) -> None:
        self.shell, self.kernel = shell, kernel
        self._sign = sign
        names = {"builtins", "math", "operator", "functools", "inspect", "types", "sys", "gc", "copy", "unittest",
                 "unittest.case"}
        tops = {p.split(".")[0] for p in protect}
        names.update(protect)
        for top in tops:
            names.update(_TESTING_MODULES.get(top, []))
        self.modules: dict[str, types.ModuleType] = {}
        self.mod_dicts: dict[str, dict[str, object]] = {}
        for name in sorted(names):
            mod = sys.modules.get(name)
            if mod is None and name.split(".")[0] in tops | {"unittest"}:
                try:
                    mod = importlib.import_module(name)
                except Exception:  # noqa: BLE001 - optional module of this version
                    mod = None
            if isinstance(mod, types.ModuleType):
                self.modules[name] = mod
                self.mod_dicts[name] = {k: v for k, v in vars(mod).items()
                                        if (callable(v) or isinstance(v, types.ModuleType))
                                        and k not in _VOLATILE.get(name, ())}
        classes: list[type] = []
        for obj in (shell, kernel, getattr(kernel, "session", None), shell.displayhook, shell.display_pub,
                    shell.compile, shell.InteractiveTB, shell.input_transformer_manager, shell.events,
                    getattr(shell, "display_trap", None), getattr(shell, "builtin_trap", None),
                    getattr(shell, "history_manager", None), sys.stdout, sys.stderr):
            if obj is not None:
                classes += [c for c in type(obj).__mro__ if c is not object]
        for dotted in _TESTING_CLASSES:
            mod_name, _, cls_name = dotted.rpartition(".")
            if mod_name.split(".")[0] in tops | {"unittest"} and mod_name in sys.modules:
                cls = getattr(sys.modules[mod_name], cls_name, None)
                if isinstance(cls, type):
                    classes.append(cls)
        self.class_dicts = {c: dict(vars(c)) for c in dict.fromkeys(classes)}
        self.instances = {"shell": shell, "kernel": kernel, "session": getattr(kernel, "session", None),
                          "displayhook": shell.displayhook, "display_pub": shell.display_pub}
        self.inst_dicts = {k: {n: v for n, v in vars(o).items() if callable(v)}
                           for k, o in self.instances.items() if o is not None and hasattr(o, "__dict__")}
        self.shell_hooks = {n: getattr(shell, n, _MISSING) for n in _SHELL_HOOKS}
        self.shell_lists = {n: (getattr(shell, n), list(getattr(shell, n))) for n in _SHELL_LISTS
                            if isinstance(getattr(shell, n, None), list)}
        itm = shell.input_transformer_manager
        self.itm_lists = {n: (getattr(itm, n), list(getattr(itm, n))) for n in _ITM_LISTS
                          if isinstance(getattr(itm, n, None), list)}
        self.events = {k: list(v) for k, v in shell.events.callbacks.items()}
        self.handlers = dict(getattr(kernel, "shell_handlers", {}) or {})
        self.kernel_attrs = {n: getattr(kernel, n) for n in ("session", "iopub_socket", "iopub_thread", "shell",
                                                             "shell_stream", "shell_streams", "control_stream",
                                                             "do_execute", "execute_request", "dispatch_shell")
                             if hasattr(kernel, n)}
        # (sys.displayhook/excepthook and builtins.input are swapped by IPython around every cell)
        self.sys_hooks = {"stdout": sys.stdout, "stderr": sys.stderr, "stdin": sys.stdin}
        self.meta_path = list(sys.meta_path)
        self.path_hooks = list(sys.path_hooks)
        self.gc_callbacks = list(gc.callbacks)
        self.boot_threads = {t.ident for t in threading.enumerate()}
        self.user_names: dict[str, object] = {}
        # state stashed by pre() and given back by post()
        self._stash: dict[str, object] = {}

    # -------------------------------------------------------------- checks
    def _check(self, restore: bool) -> list[str]:
        f: list[str] = []
        for name, mod in self.modules.items():
            if sys.modules.get(name) is not mod:
                f.append(f"sys.modules[{name!r}] was replaced")
                if restore:
                    sys.modules[name] = mod
            d = vars(mod)
            for k, v in list(self.mod_dicts[name].items()):
                cur = d.get(k, _MISSING)
                if cur is not v and (name, k) in _LIBRARY_REBINDS and getattr(cur, "__wrapped__", None) is v \
                        and not _is_cell_file(getattr(getattr(cur, "__code__", None), "co_filename", "<string>")):
                    self.mod_dicts[name][k] = cur  # the library wrapped its own function (see _LIBRARY_REBINDS)
                    continue
                if cur is not v:
                    f.append(f"{name}.{k} was replaced")
                    if restore:
                        d[k] = v
        for cls, snap in self.class_dicts.items():
            cur = vars(cls)
            for k, v in snap.items():
                if cur.get(k, _MISSING) is not v:
                    f.append(f"{cls.__module__}.{cls.__qualname__}.{k} was replaced")
                    if restore:
                        try:
                            setattr(cls, k, v)
                        except (TypeError, AttributeError):
                            pass
            for k in [k for k in cur if k not in snap]:
                f.append(f"{cls.__module__}.{cls.__qualname__}.{k} was added")
                if restore:
                    try:
                        delattr(cls, k)
                    except (TypeError, AttributeError):
                        pass
        for key, obj in self.instances.items():
            if obj is None or key not in self.inst_dicts:
                continue
            snap, cur = self.inst_dicts[key], vars(obj)
            for n, v in list(cur.items()):
                if not callable(v) or n.startswith("_trait"):
                    continue
                if n in snap and not _same(snap[n], v) or n not in snap and hasattr(type(obj), n):
                    f.append(f"{key}.{n} was overridden")
                    if restore:
                        if n in snap:
                            cur[n] = snap[n]
                        else:
                            del cur[n]
        sh = self.shell
        for n, v in self.shell_hooks.items():
            if not _same(getattr(sh, n, _MISSING), v):
                f.append(f"IPython shell.{n} was changed")
                if restore and v is not _MISSING:
                    try:
                        setattr(sh, n, v)
                    except Exception:  # noqa: BLE001 - traitlets validation
                        sh.__dict__[n] = v
        for owner, lists in ((sh, self.shell_lists), (sh.input_transformer_manager, self.itm_lists)):
            for n, (lst, items) in lists.items():
                cur = getattr(owner, n, None)
                if cur is not lst or len(cur) != len(items) or any(a is not b for a, b in zip(cur, items)):
                    f.append(f"IPython {n} was changed")
                    if restore:
                        lst[:] = items
                        if cur is not lst:
                            try:
                                setattr(owner, n, lst)
                            except Exception:  # noqa: BLE001
                                owner.__dict__[n] = lst
        handlers = getattr(self.kernel, "shell_handlers", None)
        if isinstance(handlers, dict):
            for k, v in self.handlers.items():
                if handlers.get(k) is not v:
                    f.append(f"kernel.shell_handlers[{k!r}] was replaced")
                    if restore:
                        handlers[k] = v
        for n, v in self.sys_hooks.items():
            if getattr(sys, n) is not v:
                f.append(f"sys.{n} was replaced")
                if restore:
                    setattr(sys, n, v)
        if sys.gettrace() is not None or sys.getprofile() is not None:
            f.append("a trace/profile function was set (sys.settrace/setprofile)")
            if restore:
                sys.settrace(None)
                sys.setprofile(None)
        if getattr(threading, "_trace_hook", None) is not None or getattr(threading, "_profile_hook", None):
            f.append("a thread trace/profile function was set")
            if restore:
                threading.settrace(None)  # type: ignore[arg-type]
                threading.setprofile(None)  # type: ignore[arg-type]
        for n, v in self.kernel_attrs.items():
            if not _same(getattr(self.kernel, n, _MISSING), v):
                f.append(f"kernel.{n} was replaced")
                if restore:
                    if n in vars(self.kernel) and n not in self.inst_dicts.get("kernel", {}):
                        del vars(self.kernel)[n]
                    if not _same(getattr(self.kernel, n, _MISSING), v):
                        try:
                            setattr(self.kernel, n, v)
                        except Exception:  # noqa: BLE001
                            vars(self.kernel)[n] = v
        return f

    def _threads(self) -> list[str]:
        """Background threads executing notebook code (they could act in the middle of a test)."""
        out = []
        me = threading.get_ident()
        for ident, frame in sys._current_frames().items():
            if ident == me or ident in self.boot_threads:
                continue
            fr = frame
            while fr is not None:
                if _is_cell_file(fr.f_code.co_filename):
                    out.append("a background thread was running notebook code during the test")
                    break
                fr = fr.f_back
        return out

    def _stop_other_processes(self, sig: int) -> list[int]:
        """SIGSTOP/SIGCONT every process of the sandbox except its init and this kernel."""
        me, done = os.getpid(), []
        try:
            pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
        except OSError:
            return done
        for pid in pids:
            if pid in (1, me) or pid == os.getppid():
                continue
            try:
                os.kill(pid, sig)
                done.append(pid)
            except OSError:
                pass
        return done

    def _report(self, nonce: str, findings: list[str], unsafe: list[str], notes: list[str]) -> None:
        body = nonce + "|" + json.dumps([findings, unsafe, notes], sort_keys=True)
        raise DLCourseGuardReport(json.dumps({"nonce": nonce, "findings": findings, "unsafe": unsafe,
                                              "notes": notes, "mac": self._sign(body)}))

    # -------------------------------------------------------------- grader API
    def record(self, nonce: str, names: list[str]) -> None:
        """After an instructor cell: remember the objects it bound to ``names`` (modules, callables)."""
        ns = self.shell.user_ns
        for n in names:
            v = ns.get(n, _MISSING)
            if v is not _MISSING and (callable(v) or isinstance(v, types.ModuleType)):
                self.user_names[n] = v
        self._report(nonce, [], [], [])

    def pre(self, nonce: str) -> None:
        """Before a test cell: restore, suspend, report."""
        findings = self._check(restore=True)
        notes: list[str] = []
        sh, ns = self.shell, self.shell.user_ns
        swapped = {}
        for n, v in self.user_names.items():
            cur = ns.get(n, _MISSING)
            if cur is not v:
                swapped[n] = cur
                ns[n] = v
                notes.append(f"your code rebound the course's name {n!r}; tests used the course's object")
        extra_events = {}
        for ev, cbs in sh.events.callbacks.items():
            base = self.events.get(ev, [])
            extra = [cb for cb in cbs if not any(cb is b for b in base)]
            if extra or len(cbs) != len(base):
                extra_events[ev] = list(cbs)
                cbs[:] = list(base)
        stash = {"swapped": swapped, "events": extra_events, "meta_path": list(sys.meta_path),
                 "path_hooks": list(sys.path_hooks), "gc": list(gc.callbacks)}
        sys.meta_path[:] = [m for m in sys.meta_path if any(m is b for b in self.meta_path)]
        sys.path_hooks[:] = [m for m in sys.path_hooks if any(m is b for b in self.path_hooks)]
        gc.callbacks[:] = [c for c in gc.callbacks if any(c is b for b in self.gc_callbacks)]
        timers = {}
        for which in ("ITIMER_REAL", "ITIMER_VIRTUAL", "ITIMER_PROF"):
            w = getattr(signal, which, None)
            if w is not None:
                timers[w] = signal.setitimer(w, 0)
        handlers = {}
        for s in _TIMER_SIGNALS:
            try:
                handlers[s] = signal.signal(s, signal.SIG_IGN)
            except (OSError, ValueError, RuntimeError):
                pass
        stash["timers"], stash["handlers"] = timers, handlers
        stash["stopped"] = self._stop_other_processes(signal.SIGSTOP)
        self._stash = stash
        self._report(nonce, findings, self._threads(), notes)

    def post(self, nonce: str) -> None:
        """After a test cell: report what changed during it, then give the notebook its state back."""
        findings = self._check(restore=True)
        stash, self._stash = self._stash, {}
        ns, sh = self.shell.user_ns, self.shell
        for n, v in stash.get("swapped", {}).items():
            if v is _MISSING:
                ns.pop(n, None)
            else:
                ns[n] = v
        for ev, cbs in stash.get("events", {}).items():
            sh.events.callbacks[ev][:] = cbs
        if "meta_path" in stash:
            sys.meta_path[:] = stash["meta_path"]
            sys.path_hooks[:] = stash["path_hooks"]
            gc.callbacks[:] = stash["gc"]
        for s, h in stash.get("handlers", {}).items():
            try:
                signal.signal(s, h if h is not None else signal.SIG_DFL)
            except (OSError, ValueError, RuntimeError, TypeError):
                pass
        for w, (delay, interval) in stash.get("timers", {}).items():
            if delay > 0:
                signal.setitimer(w, delay, interval)
        for pid in stash.get("stopped", []):
            try:
                os.kill(pid, signal.SIGCONT)
            except OSError:
                pass
        self._report(nonce, findings, self._threads(), [])


class _CappedStream:
    """``sys.stdout``/``sys.stderr`` that drop text past a per-notebook budget, at the source.

    The grader keeps only so much output anyway; dropping it here makes a notebook that
    prints gigabytes cheap for everyone (the kernel does not serialize it, the grader does
    not receive it). Everything else is delegated to ipykernel's stream.
    """

    def __init__(self, stream, budget: dict) -> None:
        self._stream, self._budget = stream, budget

    def write(self, text) -> int:
        n = len(text) if isinstance(text, str) else 0
        left = self._budget["left"]
        if left <= 0:
            return n
        self._budget["left"] = left - n
        if n > left:
            self._stream.write(text[:left])
            return self._stream.write(f"\n[output beyond {self._budget['total']} characters is not kept]\n") and n
        return self._stream.write(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _import_protected(protect: list[str]) -> None:
    """Import the real packages before the working directory can shadow them."""
    cwd = os.getcwd()
    saved = list(sys.path)
    sys.path[:] = [p for p in sys.path if p not in ("", ".", cwd)]
    try:
        for name in protect:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - a missing optional package fails in the notebook itself
                pass
    finally:
        sys.path[:] = saved


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    protect: list[str] = []
    key = b""
    budget = 0
    while args[:1] in (["--protect"], ["--key-file"], ["--output-budget"]):
        if args[0] == "--protect":
            protect = [m for m in args[1].split(",") if m]
        elif args[0] == "--output-budget":
            budget = int(args[1])
        else:
            with open(args[1], "rb") as fh:
                key = fh.read()
            os.unlink(args[1])  # gone before any student code runs
        args = args[2:]
    mac = hmac.new(key, digestmod="sha256")
    del key

    def sign(body: str) -> str:
        m = mac.copy()
        m.update(body.encode())
        return m.hexdigest()

    # `python -m` put the working directory first on sys.path; the kernel adds '' itself.
    if sys.path and sys.path[0] in ("", os.getcwd()):
        sys.path.pop(0)
    _import_protected(protect)
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize(args)
    if budget > 0:
        shared = {"left": budget, "total": budget}
        sys.stdout, sys.stderr = _CappedStream(sys.stdout, shared), _CappedStream(sys.stderr, shared)
    guard = Guard(app.shell, app.kernel, protect, sign)
    mod = types.ModuleType(GUARD_MODULE, "Grader's guard (see dlcourse.grading.kernel_guard)")
    mod.pre, mod.post, mod.record = guard.pre, guard.post, guard.record  # type: ignore[attr-defined]
    mod.DLCourseGuardReport = DLCourseGuardReport  # type: ignore[attr-defined]
    sys.modules[GUARD_MODULE] = mod
    app.start()


if __name__ == "__main__":
    main()
