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
            D::Str("DATATYPE::HOSTPERFDATA\tTIMET::$host.last_check$\tHOSTNAME::$host.name$\tHOSTPERFDATA::$host.perfdata$\tHOSTCHECKCOMMAND::$host.check_command$\tHOSTSTATE::$host.state$\tHOSTSTATETYPE::$host.state_type$"),
        ),
        F::new("host_perfdata_path", K::String, D::Derived("path:SpoolDir/perfdata/host-perfdata")),
        F::new("host_temp_path", K::String, D::Derived("path:SpoolDir/tmp/host-perfdata")),
        F::new("rotation_interval", K::Number, D::Number(30.0)),
        F::new(
            "service_format_template",
            K::String,
            D::Str("DATATYPE::SERVICEPERFDATA\tTIMET::$service.last_check$\tHOSTNAME::$host.name$\tSERVICEDESC::$service.name$\tSERVICEPERFDATA::$service.perfdata$\tSERVICECHECKCOMMAND::$service.check_command$\tHOSTSTATE::$host.state$\tHOSTSTATETYPE::$host.state_type$\tSERVICESTATE::$service.state$\tSERVICESTATETYPE::$service.state_type$"),
        ),
        F::new(
            "service_perfdata_path",
            K::String,
            D::Derived("path:SpoolDir/perfdata/service-perfdata"),
        ),
        F::new("service_temp_path", K::String, D::Derived("path:SpoolDir/tmp/service-perfdata")),
    ],
    load_after: &["Zone"],
    apply_targets: &[],
    group_member: None,
};
