//! Name resolution through the runtime's late binder (`LateBinder`, the
//! cache every FOT name entry goes through), for `nameclient bench`: a
//! cold resolution (the binder has no answer: it asks the registry that
//! the resolver is still the incarnation it is connected to, then makes
//! one `resolve` call) against a cached one (answered from the binder's
//! table, no call at all). The very first resolution, which also looks the
//! resolver up in the registry and connects to it, is timed on its own.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use late_binding::{LateBinder, RegistryResolvers};
use nomenclature_server::runtime::ppc::Gate;
use protocols::resolver::registry;

use crate::fot::{ByName, rname};
use crate::{CONNECT_MS, cycles, report};

/// Times resolutions of `/bench/x0` … `/bench/x{n-1}` (bound by the
/// caller) through a fresh binder: each first one is cold, then every
/// name again is cached. Prints `bench:` lines.
pub fn run(n: u64) -> Result<(), String> {
    let gate = Gate::connect("registry", CONNECT_MS).map_err(|e| format!("registry: {e}"))?;
    let mut reg = registry::Client::new(gate);
    let hier = reg
        .lookup(rname("hier"))
        .map_err(|e| format!("lookup hier: {e:?}"))?
        .id;
    let mut binder = LateBinder::new(RegistryResolvers::new(reg, ByName, hier));
    let path = |i: u64| format!("/bench/x{i}");
    let mut resolve = |i: u64| -> Result<u64, String> {
        let p = path(i);
        let t = cycles();
        binder
            .resolve(hier, p.as_bytes())
            .map_err(|e| format!("{p}: {e:?}"))?;
        Ok(cycles() - t)
    };
    let first = resolve(0)?;
    let cold = (1..n).map(&mut resolve).collect::<Result<Vec<_>, _>>()?;
    let cached = (0..n).map(&mut resolve).collect::<Result<Vec<_>, _>>()?;
    report(
        "name resolution, first (registry, connect, resolve)",
        alloc::vec![first],
    );
    report(
        "name resolution via binder, cold (registry + resolve)",
        cold,
    );
    report("name resolution via binder, cached (no call)", cached);
    let stats = binder.stats();
    if stats.resolves != n || stats.hits != n {
        return Err(format!(
            "the binder should have resolved {n} names and answered {n} from its cache: {stats:?}"
        ));
    }
    Ok(())
}
