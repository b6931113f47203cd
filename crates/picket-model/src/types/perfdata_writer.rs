//! `PerfdataWriter`: writes performance data files (feature `perfdata`).

use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};

pub static PERFDATA_WRITER: TypeSchema = TypeSchema {
    name: "PerfdataWriter",
    plural: "PerfdataWriters",
    fields: &[
        F::new("enable_ha", K::Bool, D::Bool(false)),
        F::new(
            "host_format_template",
            K::String,
            D::Str(concat!(
                "DATATYPE::HOSTPERFDATA\t",
                "TIMET::$host.last_check$\t",
                "HOSTNAME::$host.name$\t",
                "HOSTPERFDATA::$host.perfdata$\t",
                "HOSTCHECKCOMMAND::$host.check_command$\t",
                "HOSTSTATE::$host.state$\t",
                "HOSTSTATETYPE::$host.state_type$"
            )),
        ),
        F::new(
            "host_perfdata_path",
            K::String,
            D::Derived("path:SpoolDir/perfdata/host-perfdata"),
        ),
        F::new(
            "host_temp_path",
            K::String,
            D::Derived("path:SpoolDir/tmp/host-perfdata"),
        ),
        F::new("rotation_interval", K::Number, D::Number(30.0)),
        F::new(
            "service_format_template",
            K::String,
            D::Str(concat!(
                "DATATYPE::SERVICEPERFDATA\t",
                "TIMET::$service.last_check$\t",
                "HOSTNAME::$host.name$\t",
                "SERVICEDESC::$service.name$\t",
                "SERVICEPERFDATA::$service.perfdata$\t",
                "SERVICECHECKCOMMAND::$service.check_command$\t",
                "HOSTSTATE::$host.state$\t",
                "HOSTSTATETYPE::$host.state_type$\t",
                "SERVICESTATE::$service.state$\t",
                "SERVICESTATETYPE::$service.state_type$"
            )),
        ),
        F::new(
            "service_perfdata_path",
            K::String,
            D::Derived("path:SpoolDir/perfdata/service-perfdata"),
        ),
        F::new(
            "service_temp_path",
            K::String,
            D::Derived("path:SpoolDir/tmp/service-perfdata"),
        ),
    ],
    load_after: &["Zone"],
    apply_targets: &[],
    group_member: None,
};
