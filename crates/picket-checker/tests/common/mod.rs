//! What the checker's tests share.

use std::path::Path;

/// Makes `data` a node's data directory with a CA and the certificate of
/// node `cn`, which a configuration with an ApiListener needs to load.
/// (The store waits for its disk: call it off the runtime's threads.)
pub fn node_certificate(data: &Path, cn: &str) {
    let (store, _) = picket_store::DataDir::open(data).unwrap();
    let (authority, _) =
        picket_pki::Authority::open(&store, &picket_store::StoreOptions::default()).unwrap();
    let actor = picket_store::Actor::new("test");
    authority.new_ca(&actor, picket_pki::cert::now()).unwrap();
    authority
        .node_certificate(cn, &actor, picket_pki::cert::now())
        .unwrap();
}
