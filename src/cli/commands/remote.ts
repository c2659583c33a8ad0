/** `lode remote`: its flags, and a thin run from them to the command function and back to text or JSON. */
import type { Command } from 'commander';
import type { Cli } from '../context.js';
import { backendFlags, backendValues } from '../remote-flags.js';

export function register(program: Command, cli: Cli): void {
  const { globals, open, print, json } = cli;
  const remote = program
    .command('remote')
    .description('configure remotes: S3 buckets (s3://bucket/prefix) or directories')
    .addHelpText(
      'after',
      `
Credentials go to .lode/config.local (never tracked, never printed), or come from
the usual AWS chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws.

Examples:
  lode remote add backup /mnt/share/lode
  lode remote add origin s3://team-data/projects/cats --region eu-west-1
  lode remote add minio s3://lode --endpoint http://127.0.0.1:9000 --path-style
  lode remote list
  lode remote default origin`,
    );
  const remoteOptions = (c: Command) => backendFlags(c).option('--default', 'make it the default remote').option('--json', 'print the result as JSON');
  type RemoteFlags = { default?: boolean; json?: boolean };
  const describeRemote = (r: { name: string; url: string; endpoint?: string; region?: string; hasCredentials: boolean }, isDefault: boolean) =>
    `${isDefault ? '*' : ' '} ${r.name}  ${r.url}${r.endpoint ? `  (endpoint ${r.endpoint})` : ''}${r.region ? `  (region ${r.region})` : ''}${r.hasCredentials ? '  (credentials in .lode/config.local)' : ''}`;
  remoteOptions(remote.command('add').description('add a remote').argument('<name>').argument('<url>', 's3://bucket/prefix or a directory')).action(
    async (name: string, url: string, o: RemoteFlags) => {
      const { addRemote } = await import('../../commands/remote.js');
      const r = await addRemote(open(), { ...backendValues(o), name, url, cwd: globals().cwd, makeDefault: o.default });
      o.json ? json(r) : print([`Added remote ${r.name} → ${r.url}`]);
    },
  );
  remoteOptions(remote.command('modify').description('change settings of a remote').argument('<name>').option('--url <url>', 'new URL')).action(
    async (name: string, o: RemoteFlags & { url?: string }) => {
      const { modifyRemote } = await import('../../commands/remote.js');
      const r = await modifyRemote(open(), { ...backendValues(o), name, url: o.url, cwd: globals().cwd, makeDefault: o.default });
      o.json ? json(r) : print([`Updated remote ${r.name}`]);
    },
  );
  remote
    .command('list', { isDefault: true })
    .description('list remotes (the default marked *)')
    .option('--json', 'print the result as JSON')
    .action(async (o: { json?: boolean }) => {
      const { listRemotes } = await import('../../commands/remote.js');
      const r = await listRemotes(open());
      if (o.json) return json(r);
      print(r.remotes.length ? r.remotes.map((x) => describeRemote(x, x.name === r.default)) : ['No remotes: add one with `lode remote add NAME URL`']);
    });
  remote
    .command('remove')
    .description('forget a remote (its data stays where it is)')
    .argument('<name>')
    .option('--json', 'print the result as JSON')
    .action(async (name: string, o: { json?: boolean }) => {
      const { removeRemote } = await import('../../commands/remote.js');
      const r = await removeRemote(open(), { name });
      o.json ? json(r) : print([`Removed remote ${r.name}`]);
    });
  remote
    .command('rename')
    .description('rename a remote')
    .argument('<old>')
    .argument('<new>')
    .option('--json', 'print the result as JSON')
    .action(async (from: string, to: string, o: { json?: boolean }) => {
      const { renameRemote } = await import('../../commands/remote.js');
      const r = await renameRemote(open(), { from, to });
      o.json ? json(r) : print([`Renamed remote ${from} to ${r.name}`]);
    });
  remote
    .command('default')
    .description('show or set the default remote')
    .argument('[name]')
    .option('--json', 'print the result as JSON')
    .action(async (name: string | undefined, o: { json?: boolean }) => {
      const cmds = await import('../../commands/remote.js');
      const r = name ? await cmds.setDefaultRemote(open(), { name }) : await cmds.listRemotes(open());
      o.json ? json(r) : print([r.default ? `Default remote: ${r.default}` : 'No default remote']);
    });
}
