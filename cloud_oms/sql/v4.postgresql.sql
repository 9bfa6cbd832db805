-- Kasir OMS schema version 4: till releases. Frozen: later changes are new migrations.
CREATE TABLE "release" ("id" VARCHAR(36) NOT NULL PRIMARY KEY, "version" VARCHAR(40) NOT NULL, "filename" VARCHAR(80) NOT NULL, "sha256" VARCHAR(64) NOT NULL, "size" BIGINT NOT NULL, "added_at" TIMESTAMP NOT NULL, "active" BOOLEAN NOT NULL);
CREATE UNIQUE INDEX "release_version" ON "release" ("version");
