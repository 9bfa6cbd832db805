-- Kasir OMS schema version 4: till releases. Frozen: later changes are new migrations.
CREATE TABLE "release" ("id" VARCHAR(36) NOT NULL PRIMARY KEY, "version" VARCHAR(40) NOT NULL, "filename" VARCHAR(80) NOT NULL, "sha256" VARCHAR(64) NOT NULL, "size" INTEGER NOT NULL, "added_at" DATETIME NOT NULL, "active" INTEGER NOT NULL);
CREATE UNIQUE INDEX "release_version" ON "release" ("version");
