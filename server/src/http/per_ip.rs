//! The per-address connection cap: one client address (an IPv6 /64, which one subscriber
//! usually holds whole) may keep only so many connections open, so it cannot take every slot.

use ipnet::IpNet;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, PoisonError};

/// Open connections per client address. An entry lives only while that address has a
/// connection open, so the map never holds more entries than there are connections.
#[derive(Debug)]
pub(crate) struct PerIp {
    cap: usize,
    exempt: Vec<IpNet>,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One connection's place in its address's count; dropping it gives the place back.
#[derive(Debug)]
pub(crate) struct IpTicket {
    held: Option<(Arc<PerIp>, IpAddr)>,
}

impl PerIp {
    pub(crate) fn new(cap: usize, exempt: Vec<IpNet>) -> Arc<Self> {
        Arc::new(Self {
            cap: cap.max(1),
            exempt,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// A place for a connection from `peer`, or `None` when its address is at the cap.
    pub(crate) fn enter(self: &Arc<Self>, peer: IpAddr) -> Option<IpTicket> {
        let peer = peer.to_canonical();
        if self.exempt.iter().any(|net| net.contains(&peer)) {
            return Some(IpTicket { held: None });
        }
        let client = client_of(peer);
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.get(&client).copied().unwrap_or(0);
        if count >= self.cap {
            return None;
        }
        open.insert(client, count + 1);
        Some(IpTicket {
            held: Some((self.clone(), client)),
        })
    }

    /// Addresses with a connection open (for tests of the bound).
    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

impl Drop for IpTicket {
    fn drop(&mut self) {
        let Some((per_ip, client)) = self.held.take() else {
            return;
        };
        let mut open = per_ip.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&client) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&client);
            }
        }
    }
}

/// The client an address stands for: itself for IPv4, its /64 for IPv6.
fn client_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !(u128::from(u64::MAX)))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_cap_holds_per_address_and_entries_go_at_zero() {
        let per_ip = PerIp::new(2, vec!["10.0.0.0/8".parse().unwrap()]);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let first = per_ip.enter(a).unwrap();
        let _second = per_ip.enter(a).unwrap();
        assert!(per_ip.enter(a).is_none());
        // The same address mapped into IPv6 is the same client.
        assert!(per_ip.enter("::ffff:192.0.2.1".parse().unwrap()).is_none());
        assert!(per_ip.enter("192.0.2.2".parse().unwrap()).is_some());
        drop(first);
        assert!(per_ip.enter(a).is_some());
        // One /64 is one client; the exempt network is not counted at all.
        let v6 = |s: &str| s.parse::<IpAddr>().unwrap();
        let _x = per_ip.enter(v6("2001:db8::1")).unwrap();
        let _y = per_ip.enter(v6("2001:db8::2")).unwrap();
        assert!(per_ip.enter(v6("2001:db8::ffff:3")).is_none());
        let proxy: Vec<_> = (0..10)
            .map(|_| per_ip.enter("10.1.2.3".parse().unwrap()).unwrap())
            .collect();
        drop(proxy);
        assert_eq!(per_ip.tracked(), 2);
    }

    #[test]
    fn the_map_is_empty_once_every_connection_is_gone() {
        let per_ip = PerIp::new(3, Vec::new());
        let tickets: Vec<_> = (0..1_000u32)
            .filter_map(|i| per_ip.enter(IpAddr::from(std::net::Ipv4Addr::from(i))))
            .collect();
        assert_eq!(per_ip.tracked(), 1_000);
        drop(tickets);
        assert_eq!(per_ip.tracked(), 0);
    }
}
