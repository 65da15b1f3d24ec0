//! Datastores kubeproof does not generate but recognises in manifests, by
//! image (`graph` draws them as datastores, KP406 guards their client port).

use super::Known;

pub struct Other {
    pub known: Known,
    /// As [`super::Definition::images`].
    pub images: &'static [&'static str],
}

const fn other(name: &'static str, images: &'static [&'static str], client_port: u16) -> Other {
    Other { known: Known { name, client_port }, images }
}

pub static OTHERS: &[Other] = &[
    other("postgis", &["postgis"], 5432),
    other("timescaledb", &["timescaledb"], 5432),
    other("mysql", &["mysql"], 3306),
    other("mariadb", &["mariadb"], 3306),
    other("valkey", &["valkey"], 6379),
    other("keydb", &["keydb"], 6379),
    other("mongo", &["mongo", "mongodb"], 27017),
    other("cassandra", &["cassandra"], 9042),
    other("elasticsearch", &["elasticsearch"], 9200),
    other("opensearch", &["opensearch"], 9200),
    other("etcd", &["etcd"], 2379),
    other("memcached", &["memcached"], 11211),
    other("kafka", &["kafka"], 9092),
    other("zookeeper", &["zookeeper"], 2181),
    other("clickhouse", &["clickhouse"], 8123),
    other("cockroach", &["cockroach"], 26257),
    other("couchdb", &["couchdb"], 5984),
    other("influxdb", &["influxdb"], 8086),
    other("nats", &["nats"], 4222),
    other("qdrant", &["qdrant"], 6333),
    other("weaviate", &["weaviate"], 8080),
    other("milvus", &["milvus"], 19530),
];
