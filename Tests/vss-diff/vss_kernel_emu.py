#!/usr/bin/env python3
"""vss_kernel_emu - the kernel side of /dev/vmbus/hv_vss, and a sandbox of
test-made filesystems, for running hv_vss_daemon and `hvagent run` (kernel
mode) side by side (docs/PROTOCOL.md §6.5.6; the shim is hvvss_shim.c).

Library only; vss_diff.py (differential) and vss_bench.py (benchmark) use it.
Everything here runs inside a private mount namespace (`unshare -m
--propagation private`, root): the test filesystems, the tmpfs work
directory and the tmpfs over /sys/bus (so `hvagent run` finds an empty
/sys/bus/vmbus/devices) are invisible to the rest of the machine.

What the kernel emulator models (drivers/hv/hv_snapshot.c,
hv_utils_transport.c; docs/PROTOCOL.md §6.5.6):
* one daemon connection at a time (the device is single-open);
* registration: the daemon's first write must be 12 bytes with byte 0 = 129
  (REGISTER1); the kernel answers with 4 bytes, u32 129.  Anything else
  fails that write with EINVAL, which a socket cannot express: the emulator
  closes the connection instead and reports it;
* a host request becomes a 12-byte zeroed message whose byte 0 is the op
  (HOT_BACKUP 2, FREEZE 5, THAW 6); GET_DM_INFO and every other op are
  answered by the kernel itself (S_OK; GET_DM_INFO flags 0) and never reach
  the daemon;
* the daemon's 12-byte reply: bytes 0-3 are the int HRESULT the host gets;
  the host's flags at P+36 become 5 only when byte 0 of the reply is 2
  (defect V1: the op byte was overwritten by the status, so never for S_OK);
* no reply within the timeout: the host gets E_FAIL (the kernel's 900 s /
  30 s are shortened to the op's timeout) and the connection is closed (the
  kernel would fail the late reply's write with EINVAL; the daemon reopens).
"""
import json
import os
import signal
import socket
import struct
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = "/usr/sbin/hv_vss_daemon"
OP_HOT_BACKUP, OP_GET_DM_INFO, OP_FREEZE, OP_THAW, OP_REGISTER1 = 2, 3, 5, 6, 129
FORWARDED = {OP_HOT_BACKUP, OP_FREEZE, OP_THAW}
S_OK, E_FAIL = 0, 0x80004005
FIFREEZE, FITHAW = 0xC0045877, 0xC0045878
MSG = 12


def hresult_name(value):
    return {S_OK: "S_OK", E_FAIL: "E_FAIL"}.get(value, "0x%08x" % value)


class KernelSide:
    """The emulated char device: a SEQPACKET listener, one daemon at a time."""

    def __init__(self, path):
        self.path = path
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.listener.bind(path)
        self.listener.listen(4)
        self.conn = None
        self.registrations = []

    def close(self):
        for s in (self.conn, self.listener):
            if s is not None:
                s.close()
        self.conn = None

    def connected(self, timeout):
        """Accepts (if needed) and completes a registration; returns an event or None."""
        if self.conn is not None:
            return None
        self.listener.settimeout(timeout)
        try:
            conn, _ = self.listener.accept()
        except socket.timeout:
            return {"event": "no_open", "timeout_s": timeout}
        conn.settimeout(timeout)
        try:
            first = conn.recv(4096)
        except socket.timeout:
            conn.close()
            return {"event": "no_registration"}
        event = {"event": "registration", "bytes": first.hex()}
        if len(first) == MSG and first[0] == OP_REGISTER1:
            conn.send(struct.pack("<I", OP_REGISTER1))
            self.conn = conn
        else:
            event["refused"] = "EINVAL (not a 12-byte REGISTER1)"
            conn.close()
        self.registrations.append(event)
        return event

    def drop(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def exchange(self, message, timeout):
        """Sends one message; returns (reply bytes or None, what happened)."""
        if self.conn is None:
            return None, "no daemon registered"
        self.conn.settimeout(timeout)
        try:
            self.conn.send(message)
            reply = self.conn.recv(4096)
        except socket.timeout:
            # The kernel answers the host E_FAIL and fails the late reply's write with EINVAL,
            # after which a daemon reopens the device; a socket cannot fail a write, so close.
            self.drop()
            return None, "timeout"
        except OSError as e:
            self.drop()
            return None, "closed (%s)" % e.strerror
        if reply == b"":
            self.drop()
            return None, "closed"
        return reply, "reply"

    def host_request(self, op, timeout):
        """A host message through the kernel (vss_handle_request); returns the result dict."""
        result = {"to_daemon": None, "reply": None}
        if op not in FORWARDED:
            # Answered by the kernel: GET_DM_INFO with flags 0, everything else S_OK as echoed.
            result["host"] = {"status": "S_OK", "flags": 0}
            return result
        if self.conn is None:
            result["host"] = {"status": "E_FAIL", "flags": 0, "why": "no daemon registered"}
            return result
        message = bytes([op]) + bytes(MSG - 1)
        result["to_daemon"] = message.hex()
        reply, what = self.exchange(message, timeout)
        if reply is None:
            result["host"] = {"status": "E_FAIL", "flags": 0, "why": what}
            return result
        result["reply"] = reply.hex()
        if len(reply) != MSG:
            # vss_on_msg: EINVAL to the daemon's write; the host's request then times out.
            result["host"] = {"status": "E_FAIL", "flags": 0, "why": "reply of %d bytes (EINVAL)" % len(reply)}
            self.drop()
            return result
        status = struct.unpack_from("<I", reply, 0)[0]
        result["host"] = {"status": hresult_name(status), "flags": 5 if reply[0] == OP_HOT_BACKUP else 0}
        return result

    def raw(self, message, timeout):
        """Bytes straight to the daemon (what no kernel sends), to probe its input handling."""
        result = {"to_daemon": message.hex(), "reply": None}
        reply, what = self.exchange(message, timeout)
        result["reply"] = reply.hex() if reply is not None else None
        result["outcome"] = what
        return result


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def devnum(path):
    st = os.stat(path)
    return "%d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))


def fsdev(path):
    st = os.stat(path)
    return "%d:%d" % (os.major(st.st_dev), os.minor(st.st_dev))


class Sandbox:
    """Test-made filesystems on loop devices under a tmpfs work directory.

    Layout (mount order): mnt/a ext4, mnt/b xfs, mnt/a/c ext4 (nested), mnt/abind
    (a bind mount of a: the same superblock twice), mnt/ro ext4 read-only,
    mnt/t tmpfs.  Only the first three are frozen by anyone.
    """

    LAYOUT = [  # name, fstype, size MiB, mount options
        ("a", "ext4", 32, "rw"),
        ("b", "xfs", 300, "rw"),
        ("a/c", "ext4", 32, "rw"),
        ("ro", "ext4", 32, "ro"),
    ]

    def __init__(self, with_extras=True):
        if os.geteuid() != 0:
            raise PermissionError("root needed")
        self.with_extras = with_extras
        self.work = tempfile.mkdtemp(prefix="vss-diff.", dir="/tmp")
        self.loops = []
        self.mounted = []
        self.devices = {}  # mount name -> "M:m" of its filesystem

    def __enter__(self):
        try:
            self._setup()
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(self, *exc):
        self.cleanup()

    def _mount(self, args, target):
        os.makedirs(target, exist_ok=True)
        run(["mount"] + args + [target])
        self.mounted.append(target)

    def _setup(self):
        self._mount(["-t", "tmpfs", "-o", "size=64m,mode=0755", "vss-diff"], self.work)
        # `hvagent run` wants /sys/bus/vmbus/devices: an empty one, in this namespace only.
        self._mount(["-t", "tmpfs", "-o", "size=1m", "vss-diff-bus"], "/sys/bus")
        os.makedirs("/sys/bus/vmbus/devices")
        self.mnt = os.path.join(self.work, "mnt")
        # The images live on tmpfs too (sparse: only written blocks count): a freeze then costs the
        # kernel's own work, not this machine's shared disk, whose noise would swamp both daemons.
        self.images = os.path.join(self.work, "images")
        self._mount(["-t", "tmpfs", "-o", "size=1g,mode=0700", "vss-diff-images"], self.images)
        layout = self.LAYOUT if self.with_extras else self.LAYOUT[:3]
        for name, fstype, size, opts in layout:
            image = os.path.join(self.images, name.replace("/", "_") + ".img")
            with open(image, "wb") as f:
                f.truncate(size << 20)
            if fstype == "xfs":
                run(["mkfs.xfs", "-q", "-f", image])
            else:
                run(["mkfs.ext4", "-q", "-F", image])
            loop = run(["losetup", "-f", "--show", image]).stdout.strip()
            self.loops.append(loop)
            self._mount(["-t", fstype, "-o", opts, loop], os.path.join(self.mnt, name))
            self.devices[name] = devnum(loop)
        if self.with_extras:
            self._mount(["--bind", os.path.join(self.mnt, "a")], os.path.join(self.mnt, "abind"))
            self._mount(["-t", "tmpfs", "-o", "size=1m", "vss-diff-t"], os.path.join(self.mnt, "t"))
        for name in self.devices:
            assert fsdev(os.path.join(self.mnt, name)) == self.devices[name], name
        # hv_vss_daemon's /proc/mounts: only the test's mounts, in mount order.
        self.mounts_file = os.path.join(self.work, "mounts")
        with open("/proc/self/mounts") as f, open(self.mounts_file, "w") as out:
            for line in f:
                if line.split()[1].startswith(self.mnt + "/"):
                    out.write(line)
        self.hooks = os.path.join(self.work, "hooks")
        os.makedirs(self.hooks)
        self.fail_file = os.path.join(self.work, "fail")

    def thaw_all(self):
        """Thaws every test filesystem (EINVAL = not frozen): nothing stays frozen between runs."""
        import fcntl
        for name in self.devices:
            try:
                fd = os.open(os.path.join(self.mnt, name), os.O_RDONLY)
                try:
                    fcntl.ioctl(fd, FITHAW, 0)
                except OSError:
                    pass
                os.close(fd)
            except OSError:
                pass

    def cleanup(self):
        self.thaw_all()
        for target in reversed(self.mounted):
            subprocess.run(["umount", "-l", target], capture_output=True)
        self.mounted = []
        for loop in self.loops:
            subprocess.run(["losetup", "-d", loop], capture_output=True)
        self.loops = []
        try:
            os.rmdir(self.work)
        except OSError:
            pass

    def shim_env(self, socket_path, trace):
        """The environment both daemons run in (hvvss_shim.c)."""
        env = dict(os.environ)
        devs = ",".join(self.devices.values())
        env.update({
            "LD_PRELOAD": self.shim,
            "HV_VSS_SOCKET": socket_path,
            "HV_VSS_ALLOW_DEV": devs,
            "HV_VSS_NOT_LOOP": devs,
            "HV_VSS_MOUNTS": self.mounts_file,
            "HV_VSS_TRACE": trace,
            "HV_VSS_FAIL_FILE": self.fail_file,
        })
        return env

    def build_shim(self):
        self.shim = os.path.join(self.work, "hvvss_shim.so")
        run(["cc", "-O2", "-Wall", "-shared", "-fPIC", "-o", self.shim,
             os.path.join(HERE, "hvvss_shim.c"), "-ldl"])

    def hvagent_command(self, hvagent, tag):
        """`hvagent run`, VSS alone in kernel mode, its plan confined to the test mounts."""
        conf = os.path.join(self.work, "hvagent-%s.conf" % tag)
        with open(conf, "w") as f:
            f.write("[services]\nheartbeat = off\nshutdown = off\ntimesync = off\nkvp = off\nfcopy = off\nvss = kernel\n")
        sets = ["agent.status_socket=%s/status-%s.sock" % (self.work, tag),
                "vss.hook_dir=%s" % self.hooks,
                "vss.frozen_list=%s/frozen-%s" % (self.work, tag),
                "vss.mountinfo=/proc/self/mountinfo",
                "vss.only_under=%s" % self.mnt]
        cmd = [hvagent, "run", "-c", conf]
        for s in sets:
            cmd += ["--set", s]
        return cmd

    def relative(self, path):
        return path.replace(self.mnt, "$MNT")


class Daemon:
    """One daemon process under the shim, with its own socket, trace and log."""

    def __init__(self, box, name, cmd):
        self.box, self.name = box, name
        self.socket = os.path.join(box.work, "%s.sock" % name)
        self.trace = os.path.join(box.work, "%s.trace" % name)
        self.log_path = os.path.join(box.work, "%s.log" % name)
        for stale in (self.socket, self.trace):
            if os.path.exists(stale):
                os.unlink(stale)
        self.kernel = KernelSide(self.socket)
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, env=box.shim_env(self.socket, self.trace),
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        self.trace_pos = 0

    def ioctls(self):
        """The FIFREEZE/FITHAW lines since the last call, as [call, mount, result]."""
        try:
            with open(self.trace) as f:
                f.seek(self.trace_pos)
                text = f.read()
                self.trace_pos = f.tell()
        except FileNotFoundError:
            return []
        out = []
        for line in text.splitlines():
            _pid, call, path, _dev, result = line.split(" ")
            out.append([call, self.box.relative(path), result])
        return out

    def exited(self):
        return self.proc.poll()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.kernel.close()
        self.log.close()
        with open(self.log_path) as f:
            return f.read()
