//! What the process holds, read from `/proc` (Linux): descriptors, threads, child processes.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::io::{self, Read as _};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::sync::LazyLock;

use super::{Held, LeftResource, ResourceKind};

/// A look at everything the process holds, keyed so two looks can be compared.
#[derive(Debug, Default, Clone)]
pub(crate) struct Snapshot {
    /// Each descriptor with what it points at (`socket:[4213]`, `/tmp/feed.log`).
    descriptors: BTreeMap<u32, String>,
    /// Each thread's id; names are read for new threads only.
    threads: BTreeSet<u32>,
    /// Each running child process's id with its command line.
    children: BTreeMap<u32, String>,
}

impl Snapshot {
    /// Reads `/proc/self`: one listing of the descriptors and one of the threads, a link read
    /// for each descriptor and a small file for each thread; some 20 to 60 microseconds for
    /// a test process.
    pub(crate) fn take() -> io::Result<Snapshot> {
        // The listing is itself an open descriptor, of this process's /proc directory.
        static OWN_PROC: LazyLock<String> =
            LazyLock::new(|| format!("/proc/{}/", std::process::id()));
        let mut snapshot = Snapshot::default();
        for entry in fs::read_dir("/proc/self/fd")?.flatten() {
            let Some(fd) = entry
                .file_name()
                .to_str()
                .and_then(|name| name.parse().ok())
            else {
                continue;
            };
            if let Ok(target) = fs::read_link(entry.path()) {
                let target = target.to_string_lossy().into_owned();
                if !target.starts_with(OWN_PROC.as_str()) {
                    snapshot.descriptors.insert(fd, target);
                }
            }
        }
        for entry in fs::read_dir("/proc/self/task")?.flatten() {
            let Some(tid) = entry
                .file_name()
                .to_str()
                .and_then(|name| name.parse().ok())
            else {
                continue;
            };
            snapshot.threads.insert(tid);
            for child in read_small(&format!("/proc/self/task/{tid}/children"))
                .unwrap_or_default()
                .split_whitespace()
                .filter_map(|pid| pid.parse::<u32>().ok())
            {
                if let Some(command) = running_command(child) {
                    snapshot.children.insert(child, command);
                }
            }
        }
        Ok(snapshot)
    }

    /// The threads in this snapshot.
    pub(crate) fn threads(&self) -> impl Iterator<Item = u32> + '_ {
        self.threads.iter().copied()
    }

    /// Everything in `self` that `before` did not have.
    pub(crate) fn since(&self, before: &Snapshot) -> Vec<Held> {
        let mut new = Vec::new();
        for (fd, target) in &self.descriptors {
            if before.descriptors.get(fd) != Some(target) {
                new.push(Held::Descriptor {
                    fd: *fd,
                    target: target.clone(),
                });
            }
        }
        for tid in self.threads.difference(&before.threads) {
            // A thread that ended since the listing is gone: nothing was left.
            if let Some(name) = read_small(&format!("/proc/self/task/{tid}/comm")) {
                new.push(Held::Thread {
                    tid: *tid,
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

/// The descriptors thread `tid` waits on, when it is parked in `epoll_wait`, as an event
/// loop's thread is: its epoll instance (under each descriptor it has: tokio duplicates its
/// own) and every descriptor registered with it, following epoll instances registered with it
/// in turn. This is how the kernel says which sockets a server thread owns.
pub(crate) fn waited_on(tid: u32, snapshot: &Snapshot) -> Vec<u32> {
    let call = read_small(&format!("/proc/self/task/{tid}/syscall")).unwrap_or_default();
    let mut words = call.split_whitespace();
    let (Some(number), Some(first_argument)) = (words.next(), words.next()) else {
        return Vec::new();
    };
    if !EPOLL_WAITS.contains(&number) {
        return Vec::new();
    }
    let Some(epoll) = first_argument
        .strip_prefix("0x")
        .and_then(|hex| u32::from_str_radix(hex, 16).ok())
    else {
        return Vec::new();
    };
    let epolls: Vec<(u32, Vec<String>)> = snapshot
        .descriptors
        .iter()
        .filter(|(_, target)| *target == "anon_inode:[eventpoll]")
        .map(|(fd, _)| (*fd, registered(*fd)))
        .collect();
    let mut owned = vec![epoll];
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

/// The registrations of an epoll instance, one `tfd:` line each.
fn registered(epoll: u32) -> Vec<String> {
    fs::read_to_string(format!("/proc/self/fdinfo/{epoll}"))
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

/// The kernel's id of the calling thread.
pub(crate) fn current_thread_id() -> Option<u32> {
    let link = fs::read_link("/proc/thread-self").ok()?;
    link.file_name()?.to_str()?.parse().ok()
}

/// A small file of /proc, read without asking its size first, which /proc does not know.
fn read_small(path: &str) -> Option<String> {
    let mut file = fs::File::open(path).ok()?;
    let mut buffer = [0u8; 4096];
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(_) => return None,
        }
    }
    Some(String::from_utf8_lossy(&buffer[..filled]).into_owned())
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
