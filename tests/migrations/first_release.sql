-- The schema `create_all` made before migrations (commit 3db9fc0): an existing data directory.
CREATE TABLE api_keys (
	id INTEGER NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	key_hash VARCHAR(64) NOT NULL, 
	prefix VARCHAR(16) NOT NULL, 
	webhook_secret VARCHAR(100) NOT NULL, 
	balance BIGINT NOT NULL, 
	created_at DATETIME NOT NULL, 
	revoked_at DATETIME, 
	PRIMARY KEY (id)
);
CREATE UNIQUE INDEX ix_api_keys_key_hash ON api_keys (key_hash);
CREATE TABLE ledger (
	id INTEGER NOT NULL, 
	key_id INTEGER NOT NULL, 
	job_id VARCHAR(40), 
	kind VARCHAR(16) NOT NULL, 
	amount BIGINT NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_ledger_job_kind UNIQUE (job_id, kind), 
	FOREIGN KEY(key_id) REFERENCES api_keys (id)
);
CREATE INDEX ix_ledger_key_id ON ledger (key_id);
CREATE TABLE jobs (
	id VARCHAR(40) NOT NULL, 
	key_id INTEGER NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	request_json TEXT NOT NULL, 
	body_hash VARCHAR(64) NOT NULL, 
	idempotency_key VARCHAR(255), 
	webhook_url TEXT, 
	payload_json TEXT, 
	sync BOOLEAN NOT NULL, 
	base_url TEXT NOT NULL, 
	cost BIGINT NOT NULL, 
	progress FLOAT NOT NULL, 
	attempts INTEGER NOT NULL, 
	worker_id VARCHAR(64), 
	heartbeat_at DATETIME, 
	error_status INTEGER, 
	error_code VARCHAR(64), 
	error_message TEXT, 
	seed INTEGER, 
	width INTEGER, 
	height INTEGER, 
	frame_count INTEGER, 
	duration FLOAT, 
	video_bytes BIGINT, 
	generation_seconds FLOAT, 
	created_at DATETIME NOT NULL, 
	started_at DATETIME, 
	finished_at DATETIME, 
	expires_at DATETIME, 
	expired BOOLEAN NOT NULL, 
	webhook_state VARCHAR(16), 
	webhook_next_at DATETIME, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_jobs_idempotency UNIQUE (key_id, idempotency_key), 
	FOREIGN KEY(key_id) REFERENCES api_keys (id)
);
CREATE INDEX ix_jobs_expires_at ON jobs (expires_at);
CREATE INDEX ix_jobs_status_created ON jobs (status, created_at);
CREATE INDEX ix_jobs_webhook_next_at ON jobs (webhook_next_at);
CREATE INDEX ix_jobs_key_created ON jobs (key_id, created_at);
CREATE TABLE webhook_attempts (
	id INTEGER NOT NULL, 
	job_id VARCHAR(40) NOT NULL, 
	attempt INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	status_code INTEGER, 
	error TEXT, 
	ok BOOLEAN NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(job_id) REFERENCES jobs (id)
);
CREATE INDEX ix_webhook_attempts_job_id ON webhook_attempts (job_id);
