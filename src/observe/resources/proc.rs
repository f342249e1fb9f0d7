//! What the process holds, read from `/proc` (Linux): descriptors, threads, child processes.

use std::collections::{BTreeMap, HashMap};
use std::ffi::{CStr, CString};
use std::fs;
use std::io::{self, Read as _};
use std::mem::MaybeUninit;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd as _;
use std::path::Path;
use std::sync::{Arc, LazyLock};

use super::Held;
use crate::findings::{LeftResource, ResourceKind};

/// The process's id, asked once: std asks the kernel each time.
static PROCESS_ID: LazyLock<u32> = LazyLock::new(std::process::id);
/// `/proc/<pid>/` of this process, worked out once: the process id does not change.
static OWN_PROC: LazyLock<String> = LazyLock::new(|| format!("/proc/{}/", process_id()));
/// The two directories the counts are read from, spelled once and ready for the system call:
/// a test's look at them must cost next to nothing.
static OWN_DESCRIPTORS: LazyLock<CString> = LazyLock::new(|| system_path(own("fd")));
static OWN_THREADS: LazyLock<CString> = LazyLock::new(|| system_path(own("task")));
/// Where the children of the process's first thread are listed.
static FIRST_THREAD_CHILDREN: LazyLock<String> =
    LazyLock::new(|| of_thread(process_id(), "children"));

/// The thread that runs a test and takes its looks: it is never a leak, and the test's child
/// processes are its children (or the first thread's, once their parent has ended).
#[derive(Debug)]
pub(crate) struct Looker {
    tid: u32,
}

impl Looker {
    /// The calling thread, if its id can be read.
    pub(crate) fn current() -> Option<Looker> {
        Some(Looker {
            tid: current_thread_id()?,
        })
    }
}

/// How many descriptors and threads the process has, from two `stat` calls and no listing:
/// the kernel gives the number of open descriptors as the size of `/proc/<pid>/fd` (from
/// Linux 6.2) and counts the threads in the link count of `/proc/<pid>/task`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts {
    /// `None` where the kernel does not count them (`/proc/<pid>/fd` of size 0).
    descriptors: Option<u64>,
    threads: u64,
}

impl Counts {
    pub(crate) fn now() -> io::Result<Counts> {
        // rustix's `stat` is the system call itself: std's `metadata` costs five times as much
        // in the process, on a look that most tests take twice.
        let descriptors = u64::try_from(rustix::fs::stat(OWN_DESCRIPTORS.as_c_str())?.st_size)
            .unwrap_or_default();
        Ok(Counts {
            descriptors: (descriptors > 0).then_some(descriptors),
            threads: thread_count()?,
        })
    }

    /// The open descriptors and the threads, where the kernel counts descriptors.
    pub(crate) fn descriptors_and_threads(&self) -> Option<(usize, usize)> {
        let descriptors = usize::try_from(self.descriptors?).ok()?;
        Some((descriptors, usize::try_from(self.threads).ok()?))
    }

    /// Whether looks can be compared by these counts: the kernel counts descriptors.
    pub(crate) fn comparable(&self) -> bool {
        self.descriptors.is_some()
    }
}

/// A look at everything the process holds, keyed so two looks can be compared.
///
/// A look reads as little as tells two looks apart, because /proc is slow to read (some 4 us a
/// file on a virtual machine): the numbers of the open descriptors, what they point at only
/// for numbers a later look has and this one had not, the thread ids, and each thread's
/// children. A descriptor that was open before, closed by someone else while the test ran and
/// whose number the test then reused is not told apart from the one it replaced.
#[derive(Debug, Default, Clone)]
pub(crate) struct Snapshot {
    /// The open descriptors, without the look's own listing, in order.
    descriptors: Vec<u32>,
    /// Each thread's id but the one that took the look, in order; names are read for new
    /// threads only. The thread that looks runs the test: it is never a leak, and the next
    /// test, on a thread of its own, starts from this look.
    threads: Vec<u32>,
    /// Whether the thread that took the look is known (and left out of `threads`).
    taker_left_out: bool,
    /// Whether a later look found the same counts: what it saw was not on its way out (a
    /// thread ending, as the last test's may be, a descriptor being closed), so counts alone
    /// compare with it. A look not yet settled is compared thread by thread.
    settled: bool,
    /// Each running child process's id with its command line.
    children: BTreeMap<u32, String>,
}

impl Snapshot {
    /// Reads `/proc/<pid>`: a listing of the descriptors and one of the threads, and, in a
    /// process with children, a small file for each thread; ten system calls for a test
    /// process without children, where each /proc call costs some 4 microseconds on a virtual
    /// machine.
    pub(crate) fn take() -> io::Result<Snapshot> {
        Snapshot::take_knowing(&[])
    }

    /// [`Snapshot::take`], told of threads that end only with the process (`lasting`: its
    /// first thread, leakcheck's watchdog, those whose ids are known). Where the kernel counts
    /// no thread but those and the one taking the look, as in a process nextest started for
    /// one test, the threads are not listed, and the look is [settled](Snapshot::settled):
    /// none of them is on its way out.
    ///
    /// One `stat` instead of a listing's four calls for the threads, once the watchdog's
    /// thread has run and written its id.
    pub(crate) fn take_knowing(lasting: &[Option<u32>]) -> io::Result<Snapshot> {
        let taker = current_thread_id();
        let (threads, settled) = match only_lasting_threads(lasting, taker)? {
            Some(threads) => (threads, true),
            None => {
                let mut threads = Vec::new();
                for_each_listed(&OWN_THREADS, |tid| threads.push(tid))?;
                threads.retain(|tid| Some(*tid) != taker);
                threads.sort_unstable();
                (threads, false)
            }
        };
        let mut children = BTreeMap::new();
        // One call says there are none, instead of a read for each thread.
        if !no_child_processes() {
            for tid in threads.iter().copied().chain(taker) {
                for child in children_of(tid) {
                    if let Some(command) = running_command(child) {
                        children.insert(child, command);
                    }
                }
            }
        }
        Ok(Snapshot {
            descriptors: open_descriptors()?,
            threads,
            taker_left_out: taker.is_some(),
            settled,
            children,
        })
    }

    /// What counting this look gives: the same as [`Counts::now`] at the time it was taken.
    pub(crate) fn counts(&self) -> Counts {
        Counts {
            descriptors: Some(self.descriptors.len() as u64),
            threads: self.threads.len() as u64 + u64::from(self.taker_left_out),
        }
    }

    /// Whether the process still holds what this look saw, as far as a cheap look tells: as
    /// many descriptors, as many threads (and, for a look not [settled](Snapshot::settled),
    /// the same ones, `looker`, the thread asking, left out), and no
    /// running child of `looker` or of the process's first thread that this look did not
    /// see. A child whose parent thread has ended belongs to the first thread, so those two
    /// are where a test's children are; a thread of the test still running is a new thread.
    /// A process with no child at all, as most test processes are, needs no listing read.
    ///
    /// Descriptors are counted, not listed: a test that closes a descriptor it did not open
    /// and leaves one of its own open keeps the count, and is not told apart. A `false` says
    /// only that a full look is needed.
    pub(crate) fn unchanged(&self, now: Counts, looker: Option<&Looker>) -> bool {
        if !now.comparable() || now != self.counts() {
            return false;
        }
        if !self.settled && !self.same_threads(looker.map(|looker| looker.tid)) {
            return false;
        }
        if self.children.is_empty() && no_child_processes() {
            return true;
        }
        let looker_children = looker.map(|looker| of_thread(looker.tid, "children"));
        looker_children
            .iter()
            .map(String::as_str)
            .chain([FIRST_THREAD_CHILDREN.as_str()])
            .all(|listing| {
                children_listed_in(listing).all(|child| {
                    self.children.contains_key(&child) || running_command(child).is_none()
                })
            })
    }

    /// Whether the process has exactly the threads of this look, `looker` left out.
    fn same_threads(&self, looker: Option<u32>) -> bool {
        let mut threads = 0;
        let mut all_seen_before = true;
        let listed = for_each_listed(&OWN_THREADS, |tid| {
            if Some(tid) != looker {
                all_seen_before &= self.threads.binary_search(&tid).is_ok();
                threads += 1;
            }
        });
        listed.is_ok() && all_seen_before && threads == self.threads.len()
    }

    /// Whether a later look found the same counts.
    pub(crate) fn is_settled(&self) -> bool {
        self.settled
    }

    /// This look, marked as found again by a later one.
    pub(crate) fn settled(look: &Arc<Snapshot>) -> Arc<Snapshot> {
        if look.settled {
            return Arc::clone(look);
        }
        let mut settled = Snapshot::clone(look);
        settled.settled = true;
        Arc::new(settled)
    }

    /// The threads in this snapshot.
    pub(crate) fn threads(&self) -> impl Iterator<Item = u32> + '_ {
        self.threads.iter().copied()
    }

    /// Each descriptor with what it points at (`socket:[4213]`, `/tmp/feed.log`): a read for
    /// each, for the rare look that needs them all.
    fn targets(&self) -> impl Iterator<Item = (u32, String)> + '_ {
        self.descriptors
            .iter()
            .filter_map(|fd| Some((*fd, target(*fd)?)))
    }

    /// Everything in `self` that `before` did not have.
    pub(crate) fn since(&self, before: &Snapshot) -> Vec<Held> {
        let mut new = Vec::new();
        for fd in not_in(&self.descriptors, &before.descriptors) {
            // Closed since the listing: nothing was left.
            if let Some(target) = target(fd) {
                new.push(Held::Descriptor { fd, target });
            }
        }
        for tid in not_in(&self.threads, &before.threads) {
            // A thread that ended since the listing is gone: nothing was left.
            if let Some(name) = read_small(&of_thread(tid, "comm")) {
                new.push(Held::Thread {
                    tid,
                    name: name.trim_end().to_owned(),
                });
            }
        }
        for (pid, command) in &self.children {
            if !before.children.contains_key(pid) {
                new.push(Held::Child {
                    pid: *pid,
                    command: command.clone(),
                });
            }
        }
        new
    }
}

/// The threads of the process but `taker`, in order, where they are `lasting` threads and the
/// kernel counts no other; `None` where it counts more (or fewer: one has ended).
fn only_lasting_threads(
    lasting: &[Option<u32>],
    taker: Option<u32>,
) -> io::Result<Option<Vec<u32>>> {
    let Some(taker) = taker else {
        return Ok(None);
    };
    let mut threads: Vec<u32> = lasting
        .iter()
        .flatten()
        .copied()
        .filter(|tid| *tid != taker)
        .collect();
    if threads.is_empty() {
        return Ok(None);
    }
    threads.sort_unstable();
    threads.dedup();
    let counted = thread_count()?;
    Ok((counted == threads.len() as u64 + 1).then_some(threads))
}

/// How many threads the process has: the link count of `/proc/<pid>/task`, a directory's two
/// links (its name and its `.`) plus one for each thread.
fn thread_count() -> io::Result<u64> {
    // `nlink_t` is 64 bits here but 32 on some targets (aarch64).
    #[allow(clippy::useless_conversion)]
    let links = u64::from(rustix::fs::stat(OWN_THREADS.as_c_str())?.st_nlink);
    Ok(links.saturating_sub(2))
}

/// The numbers of `now` that `before` does not have; both in order.
fn not_in<'a>(now: &'a [u32], before: &'a [u32]) -> impl Iterator<Item = u32> + 'a {
    now.iter()
        .copied()
        .filter(|number| before.binary_search(number).is_err())
}

/// The process ids of thread `tid`'s children, running or not.
fn children_of(tid: u32) -> impl Iterator<Item = u32> {
    children_listed_in(&of_thread(tid, "children"))
}

/// The process ids a thread's `children` file lists.
fn children_listed_in(listing: &str) -> impl Iterator<Item = u32> + use<> {
    read_small(listing)
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|pid| pid.parse::<u32>().ok())
        .collect::<Vec<u32>>()
        .into_iter()
}

/// Whether the process has no child process, running or exited: one `waitid` that neither
/// waits (`NOHANG`) nor reaps (`NOWAIT`), and that sees the children of every thread of the
/// process. The kernel says "no children" (`ECHILD`) only when there are none.
fn no_child_processes() -> bool {
    use rustix::process::{WaitId, WaitIdOptions, waitid};
    let options = WaitIdOptions::EXITED | WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT;
    matches!(waitid(WaitId::All, options), Err(rustix::io::Errno::CHILD))
}

/// A path for a system call; the paths spelled here hold no NUL.
fn system_path(path: String) -> CString {
    CString::new(path).unwrap_or_default()
}

/// `/proc/<this process>/<path>`: naming the process saves resolving `/proc/self` each time.
fn own(path: &str) -> String {
    format!("{}{path}", OWN_PROC.as_str())
}

/// A file of thread `tid` of this process, as `/proc/<tid>/task/<tid>/<name>`.
///
/// The same file is under `/proc/<pid>/task/<tid>/`, but a thread whose entries were looked
/// up there ends slowly: under nextest, each test process took some 1.5 ms longer to end
/// when its threads' `children` were read that way (200 tests: 3.8 ms a test instead of 2.2,
/// `NEXTEST_DOUBLE_SPAWN=0`, one at a time), and no longer than without when read this way.
fn of_thread(tid: u32, name: &str) -> String {
    // Spelled by hand: `format!` costs more than the rest of a quiet look.
    let mut path = String::with_capacity(40 + name.len());
    path.push_str("/proc/");
    push_number(&mut path, tid);
    path.push_str("/task/");
    push_number(&mut path, tid);
    path.push('/');
    path.push_str(name);
    path
}

fn push_number(text: &mut String, number: u32) {
    let mut digits = [0u8; 10];
    let mut start = digits.len();
    let mut rest = number;
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    text.push_str(std::str::from_utf8(&digits[start..]).unwrap_or_default());
}

/// Calls `each` with every number a /proc directory of this process lists (descriptors,
/// threads); gives the number of the descriptor the listing was read through, which the
/// descriptors' listing lists too.
///
/// Read with `getdents` into a buffer on the stack: std's `read_dir` costs an allocation for
/// each entry's name and a `stat` of the directory, on the look every test takes.
fn for_each_listed(directory: &CStr, mut each: impl FnMut(u32)) -> io::Result<u32> {
    use rustix::fs::{Mode, OFlags, RawDir};
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let listing = rustix::fs::open(directory, flags, Mode::empty())?;
    let listing_number = u32::try_from(listing.as_raw_fd()).unwrap_or(u32::MAX);
    let mut buffer = [MaybeUninit::<u8>::uninit(); 4096];
    let mut entries = RawDir::new(&listing, &mut buffer);
    while let Some(entry) = entries.next() {
        // `.` and `..` are not numbers.
        if let Some(number) = std::str::from_utf8(entry?.file_name().to_bytes())
            .ok()
            .and_then(|name| name.parse().ok())
        {
            each(number);
        }
    }
    Ok(listing_number)
}

/// The open descriptors, in order, without the one listing them.
fn open_descriptors() -> io::Result<Vec<u32>> {
    let mut descriptors = Vec::new();
    let listing = for_each_listed(&OWN_DESCRIPTORS, |fd| descriptors.push(fd))?;
    descriptors.retain(|fd| *fd != listing);
    descriptors.sort_unstable();
    Ok(descriptors)
}

/// The process's open descriptors by kind: (sockets, files, others). A listing and a look at
/// each, for a repeated test whose descriptor count moved.
pub(crate) fn descriptors_by_kind() -> Option<(usize, usize, usize)> {
    let mut kinds = (0, 0, 0);
    for fd in open_descriptors().ok()? {
        match target(fd) {
            Some(target) if target.starts_with("socket:") => kinds.0 += 1,
            Some(target) if target.starts_with('/') => kinds.1 += 1,
            Some(_) => kinds.2 += 1,
            // Closed since the listing.
            None => {}
        }
    }
    Some(kinds)
}

/// What descriptor `fd` points at; `None` once it is closed.
fn target(fd: u32) -> Option<String> {
    let target = fs::read_link(own(&format!("fd/{fd}"))).ok()?;
    Some(target.to_string_lossy().into_owned())
}

/// The descriptors the threads `tids` wait on, those parked in `epoll_wait` as an event
/// loop's thread is: their epoll instances (under each descriptor one has: tokio duplicates
/// its own) and every descriptor registered with them, following epoll instances registered
/// with them in turn. This is how the kernel says which sockets a server thread owns.
pub(crate) fn waited_on(tids: &[u32], snapshot: &Snapshot) -> Vec<u32> {
    let mut owned: Vec<u32> = tids
        .iter()
        .filter_map(|tid| epoll_waited_on(*tid))
        .collect();
    owned.sort_unstable();
    owned.dedup();
    if owned.is_empty() {
        return owned;
    }
    // Where every descriptor points, read once for all the threads.
    let epolls: Vec<(u32, Vec<String>)> = snapshot
        .targets()
        .filter(|(_, target)| target == "anon_inode:[eventpoll]")
        .map(|(fd, _)| (fd, registered(fd)))
        .collect();
    let mut next = 0;
    while let Some(&instance) = owned.get(next) {
        next += 1;
        let Some((_, lines)) = epolls.iter().find(|(fd, _)| *fd == instance) else {
            continue;
        };
        // Another descriptor of the same instance lists the same registrations.
        let same_instance = epolls
            .iter()
            .filter(|(_, other)| !lines.is_empty() && other == lines)
            .map(|(fd, _)| *fd);
        let registered = lines.iter().filter_map(|line| {
            line.strip_prefix("tfd:")?
                .split_whitespace()
                .next()?
                .parse::<u32>()
                .ok()
        });
        for fd in same_instance.chain(registered).collect::<Vec<u32>>() {
            if !owned.contains(&fd) {
                owned.push(fd);
            }
        }
    }
    owned
}

/// The epoll instance thread `tid` is parked on, if it is in `epoll_wait`.
fn epoll_waited_on(tid: u32) -> Option<u32> {
    let call = read_small(&of_thread(tid, "syscall"))?;
    let mut words = call.split_whitespace();
    let (number, first_argument) = (words.next()?, words.next()?);
    if !EPOLL_WAITS.contains(&number) {
        return None;
    }
    first_argument
        .strip_prefix("0x")
        .and_then(|hex| u32::from_str_radix(hex, 16).ok())
}

/// The registrations of an epoll instance, one `tfd:` line each.
fn registered(epoll: u32) -> Vec<String> {
    fs::read_to_string(own(&format!("fdinfo/{epoll}")))
        .unwrap_or_default()
        .lines()
        .filter(|line| line.starts_with("tfd:"))
        .map(str::to_owned)
        .collect()
}

/// The numbers of `epoll_wait`, `epoll_pwait` and `epoll_pwait2` on this architecture.
#[cfg(target_arch = "x86_64")]
const EPOLL_WAITS: [&str; 3] = ["232", "281", "441"];
#[cfg(target_arch = "aarch64")]
const EPOLL_WAITS: [&str; 2] = ["22", "441"];
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const EPOLL_WAITS: [&str; 0] = [];

/// The process's id.
pub(crate) fn process_id() -> u32 {
    *PROCESS_ID
}

/// The kernel's id of the calling thread.
pub(crate) fn current_thread_id() -> Option<u32> {
    u32::try_from(rustix::thread::gettid().as_raw_nonzero().get()).ok()
}

/// A small file of /proc, read without asking its size first, which /proc does not know:
/// most are empty or a line, so the first read goes to a small buffer on the stack.
fn read_small(path: &str) -> Option<String> {
    let mut file = fs::File::open(path).ok()?;
    let mut first = [0u8; 128];
    let read = file.read(&mut first).ok()?;
    let mut text = first[..read].to_vec();
    if read > 0 {
        file.read_to_end(&mut text).ok()?;
    }
    Some(
        String::from_utf8(text)
            .unwrap_or_else(|bytes| String::from_utf8_lossy(bytes.as_bytes()).into_owned()),
    )
}

/// The command line of a child that is still running; `None` for one that has exited and
/// waits to be reaped (a zombie holds nothing but its process id).
fn running_command(pid: u32) -> Option<String> {
    let process = Path::new("/proc").join(pid.to_string());
    let stat = read_small(&format!("/proc/{pid}/stat"))?;
    // The state follows the command name, which is in parentheses and may hold spaces.
    let state = stat.rsplit_once(')')?.1.split_whitespace().next()?;
    if state == "Z" || state == "X" {
        return None;
    }
    let command = fs::read(process.join("cmdline")).ok()?;
    let words: Vec<String> = command
        .split(|byte| *byte == 0)
        .filter(|word| !word.is_empty())
        .map(|word| String::from_utf8_lossy(word).into_owned())
        .collect();
    Some(words.join(" "))
}

/// The sockets of the process by inode, described: `TCP 127.0.0.1:41873 (listening)`.
pub(crate) fn sockets() -> HashMap<u64, String> {
    let mut sockets = HashMap::new();
    for (table, protocol) in [
        ("tcp", "TCP"),
        ("tcp6", "TCP"),
        ("udp", "UDP"),
        ("udp6", "UDP"),
    ] {
        let Ok(text) = fs::read_to_string(Path::new("/proc/self/net").join(table)) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(remote), Some(state), Some(inode)) =
                (fields.get(1), fields.get(2), fields.get(3), fields.get(9))
            else {
                continue;
            };
            let (Some(local), Ok(inode)) = (address(local), inode.parse::<u64>()) else {
                continue;
            };
            let described = match (protocol, *state) {
                ("TCP", "0A") => format!("TCP {local} (listening)"),
                ("TCP", state) => match address(remote) {
                    Some(remote) => format!("TCP {local} -> {remote} ({})", tcp_state(state)),
                    None => format!("TCP {local}"),
                },
                _ => format!("{protocol} {local}"),
            };
            sockets.insert(inode, described);
        }
    }
    if let Ok(text) = fs::read_to_string("/proc/self/net/unix") {
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let Some(inode) = fields.get(6).and_then(|inode| inode.parse::<u64>().ok()) else {
                continue;
            };
            let described = match fields.get(7) {
                Some(path) => format!("Unix socket {path}"),
                None => "Unix socket (unnamed)".to_owned(),
            };
            sockets.insert(inode, described);
        }
    }
    sockets
}

/// `0100007F:A0D1` (IPv4, each 32-bit word in host order) or its IPv6 form, as an address.
fn address(text: &str) -> Option<SocketAddr> {
    let (host, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let words: Vec<u32> = (0..host.len() / 8)
        .map(|index| u32::from_str_radix(&host[index * 8..index * 8 + 8], 16).ok())
        .collect::<Option<_>>()?;
    let bytes: Vec<u8> = words.iter().flat_map(|word| word.to_le_bytes()).collect();
    match bytes.len() {
        4 => Some(SocketAddr::from((
            Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]),
            port,
        ))),
        16 => {
            let octets: [u8; 16] = bytes.try_into().ok()?;
            Some(SocketAddr::from((Ipv6Addr::from(octets), port)))
        }
        _ => None,
    }
}

fn tcp_state(code: &str) -> &'static str {
    match code {
        "01" => "established",
        "02" => "connecting",
        "03" => "connecting",
        "04" | "05" => "closing",
        "06" => "time wait",
        "07" => "closed",
        "08" => "close wait",
        "09" => "last ack",
        "0B" => "closing",
        _ => "open",
    }
}

/// What a descriptor's target is, in words.
pub(crate) fn describe(target: &str, sockets: &HashMap<u64, String>) -> LeftResource {
    if let Some(inode) = target
        .strip_prefix("socket:[")
        .and_then(|rest| rest.strip_suffix(']'))
    {
        let described = inode
            .parse::<u64>()
            .ok()
            .and_then(|inode| sockets.get(&inode).cloned())
            .unwrap_or_else(|| format!("socket (inode {inode})"));
        return LeftResource::new(ResourceKind::Socket, described);
    }
    if target.starts_with('/') {
        let path = Path::new(target);
        let shown = std::env::current_dir()
            .ok()
            .and_then(|working| path.strip_prefix(working).ok().map(Path::to_path_buf))
            .unwrap_or_else(|| path.to_path_buf());
        return LeftResource::new(ResourceKind::File, shown.display().to_string());
    }
    // `pipe:[7]`, `anon_inode:[eventpoll]`: the kind without its number.
    let kind = target
        .strip_prefix("anon_inode:")
        .unwrap_or(target)
        .split(':')
        .next()
        .unwrap_or(target)
        .trim_matches(['[', ']']);
    LeftResource::new(ResourceKind::Descriptor, kind.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_read_as_the_kernel_writes_them() {
        assert_eq!(
            address("0100007F:A0D1"),
            Some("127.0.0.1:41169".parse().expect("an address"))
        );
        assert_eq!(
            address("00000000000000000000000001000000:1F90"),
            Some("[::1]:8080".parse().expect("an address"))
        );
        assert_eq!(address("nonsense"), None);
    }

    #[test]
    fn a_listening_socket_of_this_process_is_described() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        let port = listener.local_addr().expect("an address").port();
        let described = sockets();
        assert!(
            described
                .values()
                .any(|socket| *socket == format!("TCP 127.0.0.1:{port} (listening)")),
            "{described:?}"
        );
    }

    #[test]
    fn a_look_sees_a_file_opened_since() {
        let before = Snapshot::take().expect("a look");
        let file = fs::File::open("Cargo.toml").expect("a file to open");
        let new = Snapshot::take().expect("a look").since(&before);
        // Other tests of this binary open and close descriptors (their own looks at /proc
        // among them) at the same time: only the file is certain.
        assert!(
            new.iter().any(|held| matches!(held, Held::Descriptor { target, .. } if target.ends_with("/Cargo.toml"))),
            "{new:?}"
        );
        drop(file);
    }

    /// What lets a look leave its own listing out (`open_descriptors`): the number the listing
    /// gives for itself is one it lists.
    #[test]
    fn the_descriptors_listing_knows_its_own_descriptor() {
        let mut listed = Vec::new();
        let listing = for_each_listed(&OWN_DESCRIPTORS, |fd| listed.push(fd)).expect("a listing");
        assert!(listed.contains(&listing), "{listing} is not in {listed:?}");
    }

    #[test]
    fn descriptors_are_named_by_kind() {
        let sockets = HashMap::from([(7, "TCP 127.0.0.1:80 (listening)".to_owned())]);
        assert_eq!(
            describe("socket:[7]", &sockets).to_string(),
            "TCP 127.0.0.1:80 (listening)"
        );
        assert_eq!(describe("pipe:[99]", &sockets).to_string(), "pipe");
        assert_eq!(
            describe("anon_inode:[eventpoll]", &sockets).to_string(),
            "eventpoll"
        );
        assert_eq!(describe("/etc/hosts", &sockets).to_string(), "/etc/hosts");
    }
}
