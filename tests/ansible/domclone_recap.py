# SPDX-License-Identifier: GPL-2.0-or-later
# A stdout callback for tests/live/ansible/test-live-ansible: one JSON object on stdout
# at the end of the run, {"tasks": [...], "stats": {HOST: {...}}}, the
# play recap and each task's result, for the test to parse. (ansible-core
# has no JSON callback of its own; it lives in the ansible.posix
# collection, which Debian ships only in the large "ansible" package.)

DOCUMENTATION = '''
    name: domclone_recap
    type: stdout
    short_description: the task results and the play recap as one JSON object
    description:
        - For the domclone test suite only.
'''

import json

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'stdout'
    CALLBACK_NAME = 'domclone_recap'

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.tasks = []

    def _record(self, result, status):
        self.tasks.append({
            'name': result._task.get_name(),
            'host': result._host.get_name(),
            'status': status,
            'result': result._result,
        })

    def v2_runner_on_ok(self, result):
        self._record(result, 'changed' if result._result.get('changed') else 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, 'failed')

    def v2_runner_on_skipped(self, result):
        self._record(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self._record(result, 'unreachable')

    def v2_playbook_on_stats(self, stats):
        recap = {host: stats.summarize(host) for host in sorted(stats.processed)}
        self._display.display(json.dumps({'tasks': self.tasks, 'stats': recap},
                                         default=str, sort_keys=True))
