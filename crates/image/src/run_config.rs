//! The run configuration of an image (the config's `config` object: `User`, `Env`, `Cmd`,
//! `Healthcheck`, ...), read from the config blob's own bytes because the OCI types leave out
//! what only Docker writes (`Healthcheck`).
//!
//! Reading is lenient: a field of an unexpected shape is left out rather than failing the scan,
//! since the checks that use these fields report what is present.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use stowaway_findings::ImageConfig;

#[derive(Deserialize, Default)]
struct ConfigBlob {
    #[serde(default)]
    config: Option<Value>,
}

/// The run configuration in `config_json`, or an empty one when it has none.
pub fn run_config(config_json: &[u8]) -> ImageConfig {
    let Ok(ConfigBlob {
        config: Some(Value::Object(config)),
    }) = serde_json::from_slice::<ConfigBlob>(config_json)
    else {
        return ImageConfig::default();
    };
    let string = |key: &str| {
        config
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let strings = |value: Option<&Value>| -> Option<Vec<String>> {
        value?
            .as_array()?
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect()
    };
    let keys = |key: &str| -> Vec<String> {
        config
            .get(key)
            .and_then(Value::as_object)
            .map(|map| map.keys().cloned().collect())
            .unwrap_or_default()
    };
    let labels: BTreeMap<String, String> = config
        .get("Labels")
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    ImageConfig {
        user: string("User"),
        env: strings(config.get("Env")).unwrap_or_default(),
        entrypoint: strings(config.get("Entrypoint")),
        cmd: strings(config.get("Cmd")),
        working_dir: string("WorkingDir"),
        labels,
        exposed_ports: keys("ExposedPorts"),
        volumes: keys("Volumes"),
        healthcheck: strings(config.get("Healthcheck").and_then(|h| h.get("Test"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_docker_writes() {
        let config = run_config(
            br#"{"architecture":"amd64","os":"linux","config":{"User":"app","Env":["PATH=/bin","A=b"],
                "Cmd":["sh"],"Entrypoint":null,"WorkingDir":"/srv","Labels":{"l":"v"},
                "ExposedPorts":{"22/tcp":{},"80/tcp":{}},"Volumes":{"/data":{}},
                "Healthcheck":{"Test":["CMD-SHELL","curl -f localhost"],"Interval":30000000000}}}"#,
        );
        assert_eq!(config.user.as_deref(), Some("app"));
        assert_eq!(config.env, ["PATH=/bin", "A=b"]);
        assert_eq!(config.cmd, Some(vec!["sh".to_string()]));
        assert_eq!(config.entrypoint, None);
        assert_eq!(config.working_dir.as_deref(), Some("/srv"));
        assert_eq!(config.labels["l"], "v");
        assert_eq!(config.exposed_ports, ["22/tcp", "80/tcp"]);
        assert_eq!(config.volumes, ["/data"]);
        assert_eq!(
            config.healthcheck,
            Some(vec![
                "CMD-SHELL".to_string(),
                "curl -f localhost".to_string()
            ])
        );
    }

    #[test]
    fn odd_shapes_are_left_out() {
        assert_eq!(run_config(b"not json"), ImageConfig::default());
        assert_eq!(run_config(br#"{"config":null}"#), ImageConfig::default());
        let config = run_config(br#"{"config":{"User":7,"Env":"A=b","Labels":{"a":1}}}"#);
        assert_eq!(config, ImageConfig::default());
    }
}
