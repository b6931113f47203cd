//! Icinga's type registry as `/v1/types` shows it: every class with its
//! base, its plural, whether it is abstract, the methods of its prototype,
//! and its own fields (numbered per class after its base's, with their
//! flags and the types they refer to). Clients that introspect types
//! (configuration tools building forms, for one) expect these classes,
//! so the table (`classes.txt`) holds what Icinga 2.13 answers; the
//! configuration schema ([`crate::schema`]) is what Picket validates with,
//! and a test keeps the two from disagreeing about which fields exist.

use std::sync::OnceLock;

/// A class of the type registry.
#[derive(Debug)]
pub struct Class {
    pub name: &'static str,
    pub base: Option<&'static str>,
    pub plural: &'static str,
    pub is_abstract: bool,
    pub prototype_keys: Vec<&'static str>,
    /// Own fields, in id order.
    pub fields: Vec<Field>,
}

/// A field a class adds to its base's.
#[derive(Debug)]
pub struct Field {
    pub id: u32,
    pub name: &'static str,
    /// Icinga's type name (`String`, `Timestamp`, `Value`, a class).
    pub type_name: &'static str,
    pub array_rank: u32,
    pub flags: Flags,
    /// The class the field names objects of.
    pub ref_type: Option<&'static str>,
    /// The attribute under which a navigation field shows the object.
    pub navigation_name: Option<&'static str>,
}

/// A field's attributes, as `/v1/types` names them.
#[derive(Debug, Default, Clone, Copy)]
pub struct Flags {
    pub config: bool,
    pub deprecated: bool,
    pub navigation: bool,
    pub no_user_modify: bool,
    pub no_user_view: bool,
    pub required: bool,
    pub state: bool,
}

impl Flags {
    fn parse(letters: &str) -> Flags {
        let has = |c| letters.contains(c);
        Flags {
            config: has('c'),
            deprecated: has('d'),
            navigation: has('n'),
            no_user_modify: has('m'),
            no_user_view: has('v'),
            required: has('r'),
            state: has('s'),
        }
    }
}

const TABLE: &str = include_str!("classes.txt");

fn optional(s: &'static str) -> Option<&'static str> {
    (!s.is_empty() && s != "-").then_some(s)
}

fn parse(table: &'static str) -> Vec<Class> {
    let mut classes: Vec<Class> = Vec::new();
    for line in table.lines().filter(|l| !l.starts_with('#')) {
        let cols: Vec<&'static str> = line.split('|').collect();
        match cols.as_slice() {
            ["T", name, base, plural, is_abstract, protos] => classes.push(Class {
                name,
                base: optional(base),
                plural,
                is_abstract: *is_abstract == "1",
                prototype_keys: protos.split(',').filter(|p| !p.is_empty()).collect(),
                fields: Vec::new(),
            }),
            ["F", id, name, type_name, rank, flags, ref_type, nav] => {
                if let (Some(class), Ok(id), Ok(array_rank)) =
                    (classes.last_mut(), id.parse(), rank.parse())
                {
                    class.fields.push(Field {
                        id,
                        name,
                        type_name,
                        array_rank,
                        flags: Flags::parse(flags),
                        ref_type: optional(ref_type),
                        navigation_name: optional(nav),
                    });
                }
            }
            _ => {}
        }
    }
    classes
}

/// Every class, in name order.
pub fn all() -> &'static [Class] {
    static CLASSES: OnceLock<Vec<Class>> = OnceLock::new();
    CLASSES.get_or_init(|| parse(TABLE))
}

/// A class by its exact (case-sensitive) name.
pub fn find(name: &str) -> Option<&'static Class> {
    all().iter().find(|c| c.name == name)
}

/// The class and its bases, the class first.
pub fn lineage(name: &str) -> Vec<&'static Class> {
    let mut out = Vec::new();
    let mut next = find(name);
    while let Some(c) = next {
        out.push(c);
        next = c.base.and_then(find);
    }
    out
}

/// The fields of a class and its bases that match `keep`, by class name,
/// worked out once.
fn fields_where(
    cache: &'static OnceLock<std::collections::HashMap<&'static str, Vec<&'static str>>>,
    name: &str,
    keep: fn(&Field) -> bool,
) -> &'static [&'static str] {
    cache
        .get_or_init(|| {
            all()
                .iter()
                .map(|c| {
                    let names = lineage(c.name)
                        .iter()
                        .flat_map(|c| c.fields.iter())
                        .filter(|f| keep(f))
                        .map(|f| f.name)
                        .collect();
                    (c.name, names)
                })
                .collect()
        })
        .get(name)
        .map_or(&[], Vec::as_slice)
}

/// A field of a class or of one of its bases.
pub fn field(class: &str, name: &str) -> Option<&'static Field> {
    lineage(class)
        .into_iter()
        .flat_map(|c| c.fields.iter())
        .find(|f| f.name == name)
}

/// Every field of a class, its bases' included: what `attrs` and
/// `joins` may name.
pub fn field_names(name: &str) -> &'static [&'static str] {
    static ALL: OnceLock<std::collections::HashMap<&'static str, Vec<&'static str>>> =
        OnceLock::new();
    fields_where(&ALL, name, |_| true)
}

/// The fields Icinga never lists in an object's attributes: those no
/// user may view, and navigation fields that are neither configuration
/// nor state (a service's `host`).
pub fn unlisted_fields(name: &str) -> &'static [&'static str] {
    static UNLISTED: OnceLock<std::collections::HashMap<&'static str, Vec<&'static str>>> =
        OnceLock::new();
    fields_where(&UNLISTED, name, |f| {
        f.flags.no_user_view || (f.flags.navigation && !f.flags.config && !f.flags.state)
    })
}

/// The fields of a class and its bases that users may not read
/// (`no_user_view`: passwords, the ticket salt, internal bookkeeping).
pub fn hidden_fields(name: &str) -> &'static [&'static str] {
    static HIDDEN: OnceLock<std::collections::HashMap<&'static str, Vec<&'static str>>> =
        OnceLock::new();
    fields_where(&HIDDEN, name, |f| f.flags.no_user_view)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_of_the_table_is_read() {
        let lines = TABLE.lines().filter(|l| !l.starts_with('#')).count();
        let read: usize = all().iter().map(|c| 1 + c.fields.len()).sum();
        assert_eq!(lines, read);
        assert_eq!(all().len(), 62);
        let host = find("Host").unwrap();
        assert_eq!(host.base, Some("Checkable"));
        let names: Vec<&str> = lineage("Host").iter().map(|c| c.name).collect();
        assert_eq!(
            names,
            [
                "Host",
                "Checkable",
                "CustomVarObject",
                "ConfigObject",
                "Object"
            ]
        );
    }

    #[test]
    fn every_configuration_field_is_a_field_of_its_class() {
        for schema in crate::types::ALL {
            let lineage = lineage(schema.name);
            if lineage.is_empty() {
                // Picket's own types (EventStore) are not Icinga's.
                continue;
            }
            for field in schema.fields {
                let known = lineage
                    .iter()
                    .any(|c| c.fields.iter().any(|f| f.name == field.name));
                assert!(
                    known,
                    "{}.{} is not in the type registry",
                    schema.name, field.name
                );
            }
        }
    }
}
