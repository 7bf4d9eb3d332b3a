//! Only-to-Customer (OTC) rules of RFC 9234 §5, as pure functions over a route's attributes, for the
//! routing glue to apply on import and export of sessions with a configured role.

use birdtable::attrs::{AttrId, AttrValue, EAttr};

use super::Role;

fn otc(attrs: &[EAttr]) -> Option<u32> {
    attrs.iter().find(|e| e.id == AttrId::BGP_OTC).and_then(|e| match e.value {
        AttrValue::Int(v) => Some(v),
        _ => None,
    })
}

fn with_otc(attrs: &mut Vec<EAttr>, asn: u32) {
    let pos = attrs.partition_point(|e| e.id < AttrId::BGP_OTC);
    if attrs.get(pos).is_some_and(|e| e.id == AttrId::BGP_OTC) {
        return;
    }
    attrs.insert(pos, EAttr { id: AttrId::BGP_OTC, flags: 0xc0, value: AttrValue::Int(asn) });
}

/// The outcome of the ingress procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OtcVerdict {
    /// Accept the route (its attributes possibly extended with OTC).
    Accept,
    /// A route leak: the route is ineligible (RFC 9234 §5 ingress 1 and 2).
    Leak,
}

/// Ingress procedure on a route received on a session where we have role `local` and the peer is
/// `peer_as`; `attrs` is sorted by id and gains OTC = `peer_as` where the RFC says so.
pub fn otc_ingress(local: Role, peer_as: u32, attrs: &mut Vec<EAttr>) -> OtcVerdict {
    let cur = otc(attrs);
    match local {
        // The peer is our customer or RS client: nothing it sends may carry OTC.
        Role::Provider | Role::RsServer if cur.is_some() => OtcVerdict::Leak,
        Role::Peer if cur.is_some_and(|v| v != peer_as) => OtcVerdict::Leak,
        // From a provider, a lateral peer or a route server: mark the route.
        Role::Peer | Role::Customer | Role::RsClient => {
            with_otc(attrs, peer_as);
            OtcVerdict::Accept
        }
        _ => OtcVerdict::Accept,
    }
}

/// Egress procedure towards a peer where we have role `local`: `false` when the route must not be
/// sent (it carries OTC and the peer is a provider, lateral peer or route server); otherwise OTC =
/// `local_as` is added when sending to a customer, lateral peer or RS client.
pub fn otc_egress(local: Role, local_as: u32, attrs: &mut Vec<EAttr>) -> bool {
    let has = otc(attrs).is_some();
    match local {
        Role::Customer | Role::Peer | Role::RsClient if has => false,
        Role::Provider | Role::Peer | Role::RsServer => {
            with_otc(attrs, local_as);
            true
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(otc: Option<u32>) -> Vec<EAttr> {
        let mut v = vec![EAttr { id: AttrId::BGP_MED, flags: 0x80, value: AttrValue::Int(1) }];
        if let Some(o) = otc {
            v.push(EAttr { id: AttrId::BGP_OTC, flags: 0xc0, value: AttrValue::Int(o) });
        }
        v
    }

    #[test]
    fn ingress() {
        assert_eq!(otc_ingress(Role::Provider, 65002, &mut attrs(Some(1))), OtcVerdict::Leak);
        assert_eq!(otc_ingress(Role::RsServer, 65002, &mut attrs(Some(1))), OtcVerdict::Leak);
        assert_eq!(otc_ingress(Role::Peer, 65002, &mut attrs(Some(1))), OtcVerdict::Leak);
        let mut a = attrs(Some(65002));
        assert_eq!(otc_ingress(Role::Peer, 65002, &mut a), OtcVerdict::Accept);
        assert_eq!(a, attrs(Some(65002)));
        let mut a = attrs(None);
        assert_eq!(otc_ingress(Role::Customer, 65002, &mut a), OtcVerdict::Accept);
        assert_eq!(otc(&a), Some(65002));
        let mut a = attrs(None);
        assert_eq!(otc_ingress(Role::Provider, 65002, &mut a), OtcVerdict::Accept);
        assert_eq!(otc(&a), None);
    }

    #[test]
    fn egress() {
        assert!(!otc_egress(Role::Customer, 65001, &mut attrs(Some(7))));
        assert!(!otc_egress(Role::Peer, 65001, &mut attrs(Some(7))));
        assert!(!otc_egress(Role::RsClient, 65001, &mut attrs(Some(7))));
        let mut a = attrs(None);
        assert!(otc_egress(Role::Provider, 65001, &mut a));
        assert_eq!(otc(&a), Some(65001));
        let mut a = attrs(Some(7));
        assert!(otc_egress(Role::RsServer, 65001, &mut a));
        assert_eq!(otc(&a), Some(7));
        let mut a = attrs(None);
        assert!(otc_egress(Role::Customer, 65001, &mut a));
        assert_eq!(otc(&a), None);
    }
}
