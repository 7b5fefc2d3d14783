import type { Kysely } from 'kysely'
import { Migrator, type Migration, type MigrationProvider } from 'kysely/migration'
import { Instruct3Error } from '../../util/errors.ts'
import type { Dialect } from './schema.ts'

/**
 * Schema migrations, in code (no files to ship), applied in order by Kysely's Migrator, which
 * records them in its own table and takes a lock, so two servers starting at once do not race.
 * Append new migrations; never edit an applied one.
 */
function migrations(dialect: Dialect): Record<string, Migration> {
  const id = dialect === 'postgres' ? 'serial' : 'integer'
  const time = 'bigint'
  return {
    '0001_init': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('users')
          .addColumn('address', 'text', (c) => c.primaryKey())
          .addColumn('roles', 'text', (c) => c.notNull())
          .addColumn('created_at', time, (c) => c.notNull())
          .execute()
        await db.schema
          .createTable('nonces')
          .addColumn('nonce', 'text', (c) => c.primaryKey())
          .addColumn('expires_at', time, (c) => c.notNull())
          .addColumn('used_at', time)
          .execute()
        await db.schema
          .createTable('sessions')
          .addColumn('token_hash', 'text', (c) => c.primaryKey())
          .addColumn('address', 'text', (c) => c.notNull())
          .addColumn('expires_at', time, (c) => c.notNull())
          .addColumn('created_at', time, (c) => c.notNull())
          .execute()
        await db.schema
          .createTable('campaigns')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('policy', 'text', (c) => c.notNull())
          .addColumn('prompts_source', 'text', (c) => c.notNull())
          .addColumn('k', 'integer', (c) => c.notNull())
          .addColumn('overlap', 'integer', (c) => c.notNull())
          .addColumn('demo_overlap', 'integer', (c) => c.notNull())
          .addColumn('lease_ms', time, (c) => c.notNull())
          .addColumn('gold_every', 'integer', (c) => c.notNull())
          .addColumn('kinds', 'text', (c) => c.notNull())
          .addColumn('created_by', 'text', (c) => c.notNull())
          .addColumn('created_at', time, (c) => c.notNull())
          .addColumn('chain_campaign_id', 'text')
          .execute()
        await db.schema
          .createTable('tasks')
          .addColumn('id', id, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
          .addColumn('campaign_id', 'text', (c) => c.notNull().references('campaigns.id'))
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('prompt', 'text', (c) => c.notNull())
          .addColumn('payload', 'text', (c) => c.notNull())
          .addColumn('task_hash', 'text', (c) => c.notNull())
          .addColumn('overlap', 'integer', (c) => c.notNull())
          .addColumn('gold', 'text')
          .addColumn('target_label_id', 'integer')
          .addColumn('target_labeler', 'text')
          .addColumn('created_at', time, (c) => c.notNull())
          .execute()
        await db.schema.createIndex('tasks_campaign_kind').on('tasks').columns(['campaign_id', 'kind', 'id']).execute()
        await db.schema
          .createTable('assignments')
          .addColumn('id', id, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
          .addColumn('task_id', 'integer', (c) => c.notNull().references('tasks.id'))
          .addColumn('campaign_id', 'text', (c) => c.notNull())
          .addColumn('labeler', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('assigned_at', time, (c) => c.notNull())
          .addColumn('lease_expires_at', time, (c) => c.notNull())
          .addColumn('submitted_at', time)
          .addUniqueConstraint('assignments_task_labeler', ['task_id', 'labeler'])
          .execute()
        await db.schema.createIndex('assignments_labeler').on('assignments').columns(['labeler', 'campaign_id']).execute()
        await db.schema
          .createTable('labels')
          .addColumn('id', id, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
          .addColumn('campaign_id', 'text', (c) => c.notNull())
          .addColumn('task_id', 'integer', (c) => c.notNull().references('tasks.id'))
          .addColumn('assignment_id', 'integer', (c) => c.notNull().unique().references('assignments.id'))
          .addColumn('labeler', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('content', 'text', (c) => c.notNull())
          .addColumn('label_hash', 'text', (c) => c.notNull().unique())
          .addColumn('signature', 'text', (c) => c.notNull())
          .addColumn('idempotency_key', 'text', (c) => c.notNull())
          .addColumn('assigned_at', time, (c) => c.notNull())
          .addColumn('created_at', time, (c) => c.notNull())
          .addUniqueConstraint('labels_labeler_idem', ['labeler', 'idempotency_key'])
          .execute()
        await db.schema.createIndex('labels_campaign').on('labels').columns(['campaign_id', 'id']).execute()
      },
    },
    // Issue 13: when each task's content was first served to its labeler (speed checks, time on task);
    // per-labeler quality published at export (what /api/me/stats shows); indexes for purging.
    '0002_trust': {
      async up(db: Kysely<any>) {
        await db.schema.alterTable('assignments').addColumn('first_served_at', time).execute()
        await db.schema
          .createTable('labeler_quality')
          .addColumn('campaign_id', 'text', (c) => c.notNull())
          .addColumn('labeler', 'text', (c) => c.notNull())
          .addColumn('quality', 'text', (c) => c.notNull())
          .addColumn('exported_at', time, (c) => c.notNull())
          .addPrimaryKeyConstraint('labeler_quality_pk', ['campaign_id', 'labeler'])
          .execute()
        await db.schema.createIndex('nonces_expires').on('nonces').column('expires_at').execute()
        await db.schema.createIndex('sessions_expires').on('sessions').column('expires_at').execute()
        await db.schema.createIndex('assignments_campaign_status').on('assignments').columns(['campaign_id', 'status', 'lease_expires_at']).execute()
      },
    },
    // Issue 20: guidelines, skip/report, prompt writing, categories and qualification, time on task, pay.
    '0003_labeling_ux': {
      async up(db: Kysely<any>) {
        await db.schema.alterTable('campaigns').addColumn('category', 'text', (c) => c.notNull().defaultTo('general')).execute()
        await db.schema.alterTable('campaigns').addColumn('currency', 'text', (c) => c.notNull().defaultTo('USDC')).execute()
        await db.schema.alterTable('campaigns').addColumn('reward_micros', time, (c) => c.notNull().defaultTo(0)).execute()
        await db.schema.alterTable('campaigns').addColumn('target_hourly_micros', time).execute()
        await db.schema.alterTable('campaigns').addColumn('skips_per_hour', 'integer', (c) => c.notNull().defaultTo(6)).execute()
        await db.schema.alterTable('assignments').addColumn('released_at', time).execute()
        await db.schema.alterTable('assignments').addColumn('gold_makeup', 'integer', (c) => c.notNull().defaultTo(0)).execute()
        await db.schema
          .createTable('guidelines')
          .addColumn('campaign_id', 'text', (c) => c.notNull().references('campaigns.id'))
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('markdown', 'text', (c) => c.notNull())
          .addColumn('hash', 'text', (c) => c.notNull())
          .addColumn('created_by', 'text', (c) => c.notNull())
          .addColumn('created_at', time, (c) => c.notNull())
          .addPrimaryKeyConstraint('guidelines_pk', ['campaign_id', 'version'])
          .execute()
        await db.schema
          .createTable('reports')
          .addColumn('id', id, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
          .addColumn('campaign_id', 'text', (c) => c.notNull())
          .addColumn('task_id', 'integer', (c) => c.notNull().references('tasks.id'))
          .addColumn('labeler', 'text', (c) => c.notNull())
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('note', 'text')
          .addColumn('created_at', time, (c) => c.notNull())
          .addUniqueConstraint('reports_task_labeler', ['task_id', 'labeler'])
          .execute()
        await db.schema.createIndex('reports_campaign').on('reports').columns(['campaign_id', 'id']).execute()
        await db.schema
          .createTable('activity')
          .addColumn('assignment_id', 'integer', (c) => c.notNull().references('assignments.id'))
          .addColumn('at', time, (c) => c.notNull())
          .execute()
        await db.schema.createIndex('activity_assignment').on('activity').columns(['assignment_id', 'at']).execute()
        await db.schema
          .createTable('qualifications')
          .addColumn('address', 'text', (c) => c.notNull())
          .addColumn('category', 'text', (c) => c.notNull())
          .addColumn('level', 'integer', (c) => c.notNull())
          .addColumn('score', 'integer', (c) => c.notNull())
          .addColumn('created_at', time, (c) => c.notNull())
          .addPrimaryKeyConstraint('qualifications_pk', ['address', 'category'])
          .execute()
        await db.schema
          .createTable('quiz_attempts')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('address', 'text', (c) => c.notNull())
          .addColumn('category', 'text', (c) => c.notNull())
          .addColumn('started_at', time, (c) => c.notNull())
          .addColumn('finished_at', time)
          .addColumn('score', 'integer')
          .addColumn('passed', 'integer')
          .execute()
        await db.schema.createIndex('quiz_attempts_address').on('quiz_attempts').columns(['address', 'category', 'started_at']).execute()
        await db.schema
          .createTable('profiles')
          .addColumn('address', 'text', (c) => c.primaryKey())
          .addColumn('display_name', 'text')
          .addColumn('show_on_leaderboard', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('updated_at', time, (c) => c.notNull())
          .execute()
      },
    },
  }
}

export async function migrate(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(dialect) }
  const { error, results } = await new Migrator({ db, provider, migrationTableName: 'labeling_migrations', migrationLockTableName: 'labeling_migrations_lock' }).migrateToLatest()
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName
    throw new Instruct3Error(`labeling database migration failed${failed ? ` at ${failed}` : ''}: ${(error as Error).message}`, { code: 'EMIGRATE', cause: error })
  }
}
