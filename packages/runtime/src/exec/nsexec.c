/*
 * corral-nsexec: runs one command inside a running container (`corral-rt exec`).
 *
 * Why C, when everything else in Corral is TypeScript: setns(CLONE_NEWNS) fails with
 * EINVAL in a multi-threaded process, and Node always has threads. util-linux nsenter
 * can enter every namespace but then runs the command with all of root's capabilities
 * (no bounding-set drop, no no_new_privs, no rlimit reset), and setpriv is a host binary
 * that is unreachable once inside the container's root. runc solves the same problem
 * with a small C "nsexec" for the same reason. This file is that piece, kept minimal:
 * Node does validation, PTY allocation and streaming (src/exec/exec.ts, pty.ts).
 *
 * Usage (argv only, so any string survives; Node spawns it with an empty environment):
 *   corral-nsexec --pid PID [--start-time TICKS] --cwd DIR --uid N --gid N
 *                 [--groups N,N..] --caps HEX [--no-new-privs] [--tty]
 *                 [--rlimit RES:SOFT:HARD].. [--env K=V].. [--seccomp HEX]
 *                 -- COMMAND [ARG]..
 * --seccomp is the container's filter as hex `struct sock_filter` bytes, installed
 * right before execve (the TypeScript side builds it: src/container/seccomp.ts).
 *   TICKS is field 22 of /proc/PID/stat as recorded when the container started: with it,
 *   a pid reused by another process is refused instead of joined.
 *   RES is the RLIMIT_* number, SOFT/HARD a decimal or -1 for unlimited. Rlimits not
 *   given are copied from the container's process, like a Docker exec gets the
 *   container's limits, not the daemon's.
 *
 * Exit status: the command's (128+N when killed by signal N); 126 when the cwd or the
 * command cannot be used, 127 when the command is not found (as Docker), 125 when
 * joining the container fails. Every error before the exec is one line on stderr
 * prefixed "corral-exec: ".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXIT_JOIN 125   /* could not join the container */
#define EXIT_CANNOT 126 /* cwd unusable, command not executable */
#define EXIT_NOTFOUND 127

#define MAX_ENV 4096
#define MAX_GROUPS 256
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static void die(int code, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
static void die(int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	dprintf(2, "corral-exec: %s\n", msg);
	_exit(code);
}

struct spec {
	pid_t pid;
	const char *start_time;
	const char *cwd;
	uid_t uid;
	gid_t gid;
	gid_t groups[MAX_GROUPS];
	size_t ngroups;
	uint64_t caps;
	int no_new_privs, tty;
	struct rlimit rlimits[RLIM_NLIMITS];
	int rlimit_given[RLIM_NLIMITS];
	char *env[MAX_ENV + 1];
	size_t nenv;
	char **argv;
	struct sock_filter *seccomp;
	unsigned short seccomp_len;
};

static unsigned long long parse_num(const char *s, const char *what)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *end)
		die(EXIT_JOIN, "bad %s: \"%s\"", what, s);
	return v;
}

static void parse_seccomp(const char *hex, struct spec *sp)
{
	size_t n = strlen(hex);
	if (n == 0 || n % 16 != 0 || n / 16 > BPF_MAXINSNS)
		die(EXIT_JOIN, "bad seccomp program: %zu hex digits", n);
	unsigned char *bytes = malloc(n / 2);
	if (!bytes) die(EXIT_JOIN, "out of memory");
	for (size_t i = 0; i < n / 2; i++) {
		unsigned int byte;
		if (sscanf(hex + 2 * i, "%2x", &byte) != 1)
			die(EXIT_JOIN, "bad seccomp program: not hex");
		bytes[i] = (unsigned char)byte;
	}
	sp->seccomp = (struct sock_filter *)bytes;
	sp->seccomp_len = (unsigned short)(n / 16);
}

static rlim_t parse_rlim(const char *s)
{
	return strcmp(s, "-1") == 0 ? RLIM_INFINITY : (rlim_t)parse_num(s, "rlimit");
}

static void parse_args(int argc, char **argv, struct spec *sp)
{
	int i;
	for (i = 1; i < argc; i++) {
		const char *o = argv[i];
		if (strcmp(o, "--") == 0)
			break;
		if (strcmp(o, "--no-new-privs") == 0) { sp->no_new_privs = 1; continue; }
		if (strcmp(o, "--tty") == 0) { sp->tty = 1; continue; }
		if (i + 1 >= argc)
			die(EXIT_JOIN, "option %s needs a value", o);
		char *v = argv[++i];
		if (strcmp(o, "--pid") == 0) sp->pid = (pid_t)parse_num(v, "pid");
		else if (strcmp(o, "--start-time") == 0) sp->start_time = v;
		else if (strcmp(o, "--cwd") == 0) sp->cwd = v;
		else if (strcmp(o, "--uid") == 0) sp->uid = (uid_t)parse_num(v, "uid");
		else if (strcmp(o, "--gid") == 0) sp->gid = (gid_t)parse_num(v, "gid");
		else if (strcmp(o, "--caps") == 0) sp->caps = parse_num(v, "capability mask");
		else if (strcmp(o, "--seccomp") == 0) parse_seccomp(v, sp);
		else if (strcmp(o, "--env") == 0) {
			if (sp->nenv >= MAX_ENV) die(EXIT_JOIN, "too many environment variables");
			sp->env[sp->nenv++] = v;
		} else if (strcmp(o, "--groups") == 0) {
			for (char *tok = strtok(v, ","); tok; tok = strtok(NULL, ",")) {
				if (sp->ngroups >= MAX_GROUPS) die(EXIT_JOIN, "too many groups");
				sp->groups[sp->ngroups++] = (gid_t)parse_num(tok, "gid");
			}
		} else if (strcmp(o, "--rlimit") == 0) {
			char *soft = strchr(v, ':'), *hard = soft ? strchr(soft + 1, ':') : NULL;
			if (!hard) die(EXIT_JOIN, "bad rlimit \"%s\"", v);
			*soft++ = 0, *hard++ = 0;
			unsigned long long res = parse_num(v, "rlimit resource");
			if (res >= RLIM_NLIMITS) die(EXIT_JOIN, "bad rlimit resource %llu", res);
			sp->rlimits[res].rlim_cur = parse_rlim(soft);
			sp->rlimits[res].rlim_max = parse_rlim(hard);
			sp->rlimit_given[res] = 1;
		} else
			die(EXIT_JOIN, "unknown option %s", o);
	}
	if (i >= argc - 1 || sp->pid <= 0 || !sp->cwd)
		die(EXIT_JOIN, "usage: corral-nsexec --pid PID --cwd DIR [options] -- COMMAND [ARG]..");
	sp->argv = &argv[i + 1];
}

/*
 * CVE-2019-5736: a container process could open /proc/<us>/exe while we run inside its
 * namespaces and later write through it to the helper binary on the host. Run from a
 * sealed memfd copy instead (as runc does), so there is nothing on the host to reach.
 */
#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)
static void reexec_from_sealed_copy(char **argv)
{
	int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (self < 0) die(EXIT_JOIN, "open /proc/self/exe: %m");
	if (fcntl(self, F_GET_SEALS) == SEALS) { close(self); return; } /* already the copy */
	struct stat st;
	int mem = memfd_create("corral-nsexec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mem < 0 || fstat(self, &st) < 0) die(EXIT_JOIN, "memfd_create: %m");
	for (off_t left = st.st_size; left > 0;) {
		ssize_t n = sendfile(mem, self, NULL, (size_t)left);
		if (n <= 0) die(EXIT_JOIN, "copy helper to memfd: %m");
		left -= n;
	}
	if (fcntl(mem, F_ADD_SEALS, SEALS) < 0) die(EXIT_JOIN, "seal memfd: %m");
	close(self);
	char *empty_env[] = { NULL };
	fexecve(mem, argv, empty_env);
	die(EXIT_JOIN, "re-exec from memfd: %m");
}

/* Mountinfo escapes spaces etc. as \ooo; undo that in place. */
static void unescape(char *s)
{
	char *d = s;
	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] && s[3]) {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else
			*d++ = *s;
	}
	*d = 0;
}

/* Does the comma list `have` (a mount's super options) contain every item of `want`? */
static int has_all(const char *have, const char *want)
{
	char w[256];
	snprintf(w, sizeof w, "%s", want);
	for (char *save = NULL, *tok = strtok_r(w, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t n = strlen(tok);
		const char *p = have;
		int found = 0;
		while (p && !found) {
			found = strncmp(p, tok, n) == 0 && (p[n] == ',' || p[n] == 0);
			p = strchr(p, ',');
			if (p) p++;
		}
		if (!found) return 0;
	}
	return 1;
}

/*
 * Finds where a hierarchy is mounted on the host: controllers "" means cgroup2, else a
 * v1 list such as "cpu,cpuacct" or "name=systemd". Writes mountpoint + path into out.
 */
static int cgroup_dir(const char *controllers, const char *path, char *out, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int ok = 0;
	while (f && !ok && getline(&line, &cap, f) > 0) {
		char *f_root = NULL, *f_mnt = NULL, *dash = strstr(line, " - ");
		if (!dash) continue;
		char *save = NULL, *tok = strtok_r(line, " ", &save);
		for (int field = 0; tok && field < 5; field++, tok = strtok_r(NULL, " ", &save))
			if (field == 3) f_root = tok;
			else if (field == 4) f_mnt = tok;
		char *fstype = strtok_r(dash + 3, " ", &save), *src = strtok_r(NULL, " ", &save);
		char *opts = strtok_r(NULL, " \n", &save);
		if (!f_mnt || !fstype || !src || !opts) continue;
		int v2 = strcmp(fstype, "cgroup2") == 0;
		if (*controllers ? strcmp(fstype, "cgroup") != 0 || !has_all(opts, controllers) : !v2)
			continue;
		unescape(f_root), unescape(f_mnt);
		size_t rl = strcmp(f_root, "/") == 0 ? 0 : strlen(f_root);
		if (strncmp(path, f_root, rl) != 0 || (path[rl] != '/' && path[rl] != 0)) continue;
		ok = snprintf(out, len, "%s%s", f_mnt, path + rl) < (int)len;
	}
	free(line);
	if (f) fclose(f);
	return ok;
}

/*
 * Opens /proc/PID once; everything else about the target is read through this fd. If the
 * process dies, those reads fail (ESRCH) instead of reaching whoever gets the pid next.
 */
static int open_target(pid_t pid, const char *start_time)
{
	char path[64], stat[1024];
	snprintf(path, sizeof path, "/proc/%d", pid);
	int dir = open(path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (dir < 0) die(EXIT_JOIN, "open %s: %m (is the container running?)", path);
	if (!start_time) return dir;
	int fd = openat(dir, "stat", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, stat, sizeof stat - 1);
	if (n <= 0) die(EXIT_JOIN, "read %s/stat: %m", path);
	close(fd);
	stat[n] = 0;
	/* After "pid (comm)", field 3 onwards; starttime is field 22. comm may hold spaces. */
	char *field = strrchr(stat, ')'), *save = NULL;
	for (int i = 2; field && i < 22; i++) field = strtok_r(i == 2 ? field + 1 : NULL, " ", &save);
	if (!field || strcmp(field, start_time) != 0)
		die(EXIT_JOIN, "pid %d is no longer the container's process (start time %s, want %s)",
		    pid, field ? field : "?", start_time);
	return dir;
}

/* Moves this process into every cgroup the target is in (read from the host's view). */
static void join_cgroups(int target)
{
	char *line = NULL, dir[PATH_MAX], procs[PATH_MAX + 16];
	size_t cap = 0;
	int cgfd = openat(target, "cgroup", O_RDONLY | O_CLOEXEC);
	FILE *f = cgfd < 0 ? NULL : fdopen(cgfd, "re");
	if (!f) die(EXIT_JOIN, "open the container's /proc/PID/cgroup: %m");
	while (getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = 0;
		char *ctrl = strchr(line, ':'), *path = ctrl ? strchr(ctrl + 1, ':') : NULL;
		if (!path) continue;
		*ctrl++ = 0, *path++ = 0;
		/* A hierarchy where the target sits at the root was never set up for it. */
		int needed = strcmp(path, "/") != 0;
		if (!cgroup_dir(ctrl, path, dir, sizeof dir)) {
			if (needed) die(EXIT_JOIN, "join cgroup %s:%s: hierarchy not mounted", ctrl, path);
			continue;
		}
		snprintf(procs, sizeof procs, "%s/cgroup.procs", dir);
		int fd = open(procs, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || dprintf(fd, "%d\n", getpid()) < 0) {
			if (needed) die(EXIT_JOIN, "join cgroup %s: %m", procs);
		}
		if (fd >= 0) close(fd);
	}
	free(line);
	fclose(f);
}

static void join_namespaces(int target)
{
	/* mnt last: after it /proc and /sys are the container's. pid only affects children. */
	static const struct { const char *name; int type; } ns[] = {
		{ "cgroup", CLONE_NEWCGROUP }, { "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS },
		{ "net", CLONE_NEWNET },       { "pid", CLONE_NEWPID }, { "mnt", CLONE_NEWNS },
	};
	int fds[6];
	char path[16];
	/* Open them all first: once in the new mnt namespace, the host's /proc is gone. */
	for (size_t i = 0; i < 6; i++) {
		snprintf(path, sizeof path, "ns/%s", ns[i].name);
		if ((fds[i] = openat(target, path, O_RDONLY | O_CLOEXEC)) < 0)
			die(EXIT_JOIN, "open the container's %s namespace: %m", ns[i].name);
	}
	close(target);
	for (size_t i = 0; i < 6; i++) {
		if (setns(fds[i], ns[i].type) < 0) die(EXIT_JOIN, "setns %s: %m", ns[i].name);
		close(fds[i]);
	}
}

static void close_fds_above_2(void)
{
	if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0) return;
	DIR *d = opendir("/proc/self/fd"); /* kernels before 5.9 */
	if (!d) die(EXIT_JOIN, "close fds: %m");
	for (struct dirent *e; (e = readdir(d));) {
		int fd = atoi(e->d_name);
		if (fd > 2 && fd != dirfd(d)) close(fd);
	}
	closedir(d);
}

static void reset_signals(void)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL); /* KILL, STOP and glibc's reserved ones fail: fine */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Keeps exactly `caps` in the bounding set; called as root, before switching user. */
static void limit_bounding_set(uint64_t caps)
{
	for (int cap = 0; cap < 64 && prctl(PR_CAPBSET_READ, cap) >= 0; cap++)
		if (!(caps & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap) < 0)
			die(EXIT_JOIN, "drop capability %d from bounding set: %m", cap);
}

/*
 * Effective = permitted = `caps`, inheritable and ambient empty. Docker and runc keep
 * inheritable empty since CVE-2022-24769 (a non-root exec of a file with inheritable
 * file capabilities would otherwise gain them). Root still gets `caps` after execve,
 * as its file-permitted set is the whole bounding set.
 */
static void set_capabilities(uint64_t caps)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {
		{ .effective = (uint32_t)caps, .permitted = (uint32_t)caps },
		{ .effective = (uint32_t)(caps >> 32), .permitted = (uint32_t)(caps >> 32) },
	};
	if (syscall(SYS_capset, &hdr, data) < 0) die(EXIT_JOIN, "capset: %m");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		die(EXIT_JOIN, "clear ambient capabilities: %m");
}

/* PATH lookup as runc's (Go's exec.LookPath): first regular file with an x bit. */
static const char *look_path(const char *name, char *buf, size_t len)
{
	if (strchr(name, '/')) return name;
	const char *path = getenv("PATH");
	if (!path) path = DEFAULT_PATH;
	for (const char *p = path;; p++) {
		const char *end = strchrnul(p, ':');
		int dl = (int)(end - p);
		struct stat st;
		if (snprintf(buf, len, "%.*s/%s", dl ? dl : 1, dl ? p : ".", name) < (int)len &&
		    stat(buf, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111))
			return buf;
		if (!*end) break;
		p = end;
	}
	die(EXIT_NOTFOUND, "exec: \"%s\": executable file not found in $PATH", name);
}

static void install_seccomp(const struct spec *sp)
{
	if (!sp->seccomp) return;
	struct sock_fprog prog = { .len = sp->seccomp_len, .filter = sp->seccomp };
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		die(EXIT_JOIN, "install seccomp filter: %m");
}

/* Runs in the forked child, inside every namespace: becomes the user's command. */
static void become_command(struct spec *sp, const struct rlimit *inherited)
{
	char found[PATH_MAX];
	reset_signals();
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) die(EXIT_JOIN, "set parent-death signal: %m");
	if (sp->tty && (setsid() < 0 || ioctl(0, TIOCSCTTY, 0) < 0))
		die(EXIT_JOIN, "make fd 0 the controlling terminal: %m");
	if (clearenv() != 0) die(EXIT_JOIN, "clearenv failed");
	for (size_t i = 0; i < sp->nenv; i++)
		if (putenv(sp->env[i]) != 0) die(EXIT_JOIN, "putenv: %m");
	for (int r = 0; r < RLIM_NLIMITS; r++) {
		const struct rlimit *lim = sp->rlimit_given[r] ? &sp->rlimits[r] : &inherited[r];
		if (setrlimit(r, lim) < 0) die(EXIT_JOIN, "setrlimit %d: %m", r);
	}
	/* Without no_new_privs the kernel wants CAP_SYS_ADMIN to install a filter: do it while we
	 * have it (runc's order); the rest of the setup then runs under the filter. */
	if (!sp->no_new_privs) install_seccomp(sp);
	limit_bounding_set(sp->caps);
	/* Keep permitted caps across the uid change; capset then trims them to `caps`. */
	if (prctl(PR_SET_KEEPCAPS, 1) < 0) die(EXIT_JOIN, "set keepcaps: %m");
	if (setgroups(sp->ngroups, sp->groups) < 0) die(EXIT_JOIN, "setgroups: %m");
	if (setresgid(sp->gid, sp->gid, sp->gid) < 0) die(EXIT_JOIN, "setresgid %u: %m", sp->gid);
	if (setresuid(sp->uid, sp->uid, sp->uid) < 0) die(EXIT_JOIN, "setresuid %u: %m", sp->uid);
	if (prctl(PR_SET_KEEPCAPS, 0) < 0) die(EXIT_JOIN, "clear keepcaps: %m");
	set_capabilities(sp->caps);
	/* A uid change clears the parent-death signal; set it again. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) die(EXIT_JOIN, "set parent-death signal: %m");
	/* As the user, so permissions apply as they will to the command (runc does the same). */
	if (chdir(sp->cwd) < 0)
		die(EXIT_CANNOT, "chdir to cwd (\"%s\") failed: %m", sp->cwd);
	if (sp->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die(EXIT_JOIN, "set no_new_privs: %m");
	umask(022);
	close_fds_above_2();
	const char *file = look_path(sp->argv[0], found, sizeof found);
	/* Last, like the container's own init: only execve runs under the filter here. */
	if (sp->no_new_privs) install_seccomp(sp);
	execve(file, sp->argv, environ);
	if (errno == ENOENT) die(EXIT_NOTFOUND, "exec: \"%s\": stat %s: %m", sp->argv[0], file);
	die(EXIT_CANNOT, "exec: \"%s\": %m", sp->argv[0]);
}

static volatile sig_atomic_t child_pid;

static void forward(int sig)
{
	if (child_pid > 0) kill(child_pid, sig);
}

int main(int argc, char **argv)
{
	static struct spec sp; /* big (env pointers): keep it off the stack */
	static struct rlimit inherited[RLIM_NLIMITS];
	static const int forwarded[] = { SIGHUP,  SIGINT,  SIGQUIT, SIGUSR1, SIGUSR2,
					 SIGALRM, SIGTERM, SIGCONT, SIGWINCH };
	sigset_t all, old;
	int status;

	reexec_from_sealed_copy(argv);
	/* Not dumpable: container processes must not ptrace us or read /proc/<us>/mem. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	close_fds_above_2();
	parse_args(argc, argv, &sp);

	int target = open_target(sp.pid, sp.start_time);
	for (int r = 0; r < RLIM_NLIMITS; r++)
		if (prlimit(sp.pid, r, NULL, &inherited[r]) < 0)
			die(EXIT_JOIN, "read rlimits of pid %d: %m", sp.pid);
	join_cgroups(target);
	join_namespaces(target); /* fails if the target died since open_target */

	/* Block signals across fork: the parent forwards them once it knows the child. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	struct sigaction fwd = { .sa_handler = forward, .sa_flags = SA_RESTART };
	sigfillset(&fwd.sa_mask);
	for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
		sigaction(forwarded[i], &fwd, NULL);
	pid_t pid = fork(); /* after setns(pid): the child is inside the container's pid ns */
	if (pid < 0) die(EXIT_JOIN, "fork: %m");
	if (pid == 0) become_command(&sp, inherited);
	child_pid = pid;
	sigprocmask(SIG_SETMASK, &old, NULL);

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) die(EXIT_JOIN, "waitpid: %m");
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}
