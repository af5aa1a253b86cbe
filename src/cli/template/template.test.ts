import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDenError } from '../../common/errors.js';
import { parseTemplate } from './index.js';
import { sprintf } from './values.js';

/** Shaped like `den inspect` of a container, with docker's maps (labels, ports). */
const CONTAINER = {
  Id: 'f00dfeedcafe0123',
  Name: '/web',
  Image: 'nginx:1.25',
  Args: ['-g', 'daemon off;'],
  State: { Status: 'running', Running: true, Pid: 4242, ExitCode: 0 },
  Config: { Image: 'nginx:1.25', Labels: { 'com.z': 'last', 'com.a': 'first' }, Env: ['A=1', 'B=2'] },
  Mounts: [
    { Source: '/srv/data', Destination: '/data' },
    { Source: '/srv/cache', Destination: '/cache' },
  ],
  NetworkSettings: {
    Ports: {
      '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }],
      '443/tcp': [{ HostIp: '0.0.0.0', HostPort: '8443' }],
    },
  },
  Names: ['web', 'frontend'],
  Empty: { List: [], Map: {}, Zero: 0, Text: '', Nil: null, False: false },
};

const render = (template: string, data: unknown = CONTAINER) => parseTemplate(template).execute(data);

test("docker's documented examples", () => {
  const cases: [string, string][] = [
    ['{{join .Names ","}}', 'web,frontend'],
    ['{{join .Args " , "}}', '-g , daemon off;'],
    ['{{range .Mounts}}{{.Source}} {{end}}', '/srv/data /srv/cache '],
    ['{{json .Config}}', '{"Image":"nginx:1.25","Labels":{"com.a":"first","com.z":"last"},"Env":["A=1","B=2"]}'],
    [
      '{{json .Mounts}}',
      '[{"Source":"/srv/data","Destination":"/data"},{"Source":"/srv/cache","Destination":"/cache"}]',
    ],
    ['{{.State.Running}}', 'true'],
    [
      '{{range $p, $conf := .NetworkSettings.Ports}}{{$p}} -> {{(index $conf 0).HostPort}} {{end}}',
      '443/tcp -> 8443 80/tcp -> 8080 ',
    ],
    ['[{{printf "%-10s" .Name}}]', '[/web      ]'],
    ['{{if eq .State.Status "running"}}up{{else}}down{{end}}', 'up'],
    ['{{lower .Name | upper}}', '/WEB'],
    ['{{upper .Name}}', '/WEB'],
    ['{{truncate .Id 4}}', 'f00d'],
    ['{{truncate .Id 99}}', 'f00dfeedcafe0123'],
    ['[{{pad .Name 1 1}}]', '[ /web ]'],
    ['[{{pad .Empty.Text 1 1}}]', '[]'],
    ['{{split .Image ":"}}', '[nginx 1.25]'],
    ['{{index (split .Image ":") 1}}', '1.25'],
    ['{{title "hello world"}}', 'Hello World'],
    ['{{range .Config.Env}}{{println .}}{{end}}', 'A=1\nB=2\n'],
    ['{{index .Config.Labels "com.a"}}', 'first'],
    ['{{.Config.Labels}}', 'map[com.a:first com.z:last]'],
  ];
  for (const [template, want] of cases) assert.equal(render(template), want, template);
});

test("Go's semantics: truth, fields, variables, control flow", () => {
  const cases: [string, string][] = [
    // Truth: empty arrays and maps, zero, "", nil and false are false; a struct is always true.
    ['{{if .Empty.List}}t{{else}}f{{end}}', 'f'],
    ['{{if .Empty.Map}}t{{else}}f{{end}}', 'f'],
    ['{{if .Empty.Zero}}t{{else}}f{{end}}', 'f'],
    ['{{if .Empty.Text}}t{{else}}f{{end}}', 'f'],
    ['{{if .Empty.Nil}}t{{else}}f{{end}}', 'f'],
    ['{{if .Empty.False}}t{{else}}f{{end}}', 'f'],
    ['{{if .State}}t{{else}}f{{end}}', 't'],
    ['{{if .Names}}t{{else}}f{{end}}', 't'],
    ['{{if .Empty.Zero}}a{{else if .Empty.Text}}b{{else if .Names}}c{{else}}d{{end}}', 'c'],
    ['{{with .State}}{{.Pid}}{{end}}', '4242'],
    ['{{with .Empty.List}}x{{else}}none{{end}}', 'none'],
    ['{{with $s := .State.Status}}{{$s}}{{end}}', 'running'],
    // range: maps in sorted key order, index and element, else, break and continue, integers.
    ['{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}', 'com.a=first;com.z=last;'],
    ['{{range $i, $e := .Names}}{{if $i}},{{end}}{{$e}}{{end}}', 'web,frontend'],
    ['{{range $e := .Names}}{{$e}}{{end}}', 'webfrontend'],
    ['{{range .Empty.List}}x{{else}}empty{{end}}', 'empty'],
    ['{{range .Empty.Nil}}x{{else}}empty{{end}}', 'empty'],
    ['{{range .Names}}{{if eq . "web"}}{{continue}}{{end}}{{.}}{{end}}', 'frontend'],
    ['{{range .Names}}{{.}}{{break}}{{end}}', 'web'],
    ['{{range 3}}{{.}}{{end}}', '012'],
    ['{{range .Names}}{{$.Name}}{{end}}', '/web/web'],
    // Variables: declare, assign, scope.
    ['{{$x := 1}}{{$x = 2}}{{$x}}', '2'],
    ['{{$n := 0}}{{range .Names}}{{$n = len .}}{{end}}{{$n}}', '8'],
    ['{{$x := "a"}}{{if true}}{{$x := "b"}}{{$x}}{{end}}{{$x}}', 'ba'],
    // Whitespace trimming and comments.
    ['a  {{- 1 -}}  b', 'a1b'],
    ['a\n\t{{- /* gone */ -}}\n b', 'ab'],
    ['{{/* only */}}x', 'x'],
    ['{{-3}}', '-3'],
    // Printing as Go prints: structs, maps, arrays, nil and missing keys.
    ['{{.State}}', '{running true 4242 0}'],
    ['{{.Names}}', '[web frontend]'],
    ['{{.Empty.Nil}}', '<nil>'],
    ['{{.Config.Labels.missing}}', '<no value>'],
    ['{{index .Config.Labels "missing"}}', '<no value>'],
    ['{{.Empty.Nil.Anything}}', '<no value>'],
    // Literals: Go's quoting, raw strings, characters, numbers.
    ['{{"a\\tb\\u00e9"}}', 'a\tbé'],
    ['{{`raw\\n`}}', 'raw\\n'],
    ["{{'a'}}", '97'],
    ['{{0x1F}} {{1_000}} {{017}} {{1.5}} {{1e3}} {{print nil}}', '31 1000 15 1.5 1000 <nil>'],
    // Pipelines and parentheses.
    ['{{.Name | printf "%s!" | upper}}', '/WEB!'],
    ['{{(index .Mounts 1).Destination}}', '/cache'],
    ['{{len (index .Mounts 0).Source}}', '9'],
  ];
  for (const [template, want] of cases) assert.equal(render(template), want, template);
});

test("Go's builtins", () => {
  const cases: [string, string][] = [
    ['{{and 1 0 2}} {{and 1 2}} {{or 0 "" "x"}} {{or 0 ""}}', '0 2 x '],
    ['{{and .Empty.Nil .Nope.Never}}', '<nil>'], // stops before the missing field
    ['{{not .Names}} {{not .Empty.List}}', 'false true'],
    ['{{len .Mounts}} {{len .Name}} {{len .Config.Labels}} {{len "é"}}', '2 4 2 2'],
    [
      '{{index .Names 1}} {{index .NetworkSettings.Ports "80/tcp" 0 | json}}',
      'frontend {"HostIp":"0.0.0.0","HostPort":"8080"}',
    ],
    ['{{slice .Name 1 3}} {{slice .Names 1}}', 'we [frontend]'],
    ['{{print 1 2 "a" 3 .Names}}', '1 2a3 [web frontend]'],
    ['{{println "a" 1}}', 'a 1\n'],
    ['{{eq 1 2 1}} {{eq "a" "a"}} {{ne 1 2}} {{eq .Empty.Nil nil}}', 'true true true true'],
    ['{{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}} {{lt 1 1.5}}', 'true true true false true'],
    ['{{html "<a href=\'x\'>&"}}', '&lt;a href=&#39;x&#39;&gt;&amp;'],
    ['{{urlquery "a b&c"}}', 'a+b%26c'],
    ['{{js "it\'s <b>"}}', "it\\'s \\u003Cb\\u003E"],
  ];
  for (const [template, want] of cases) assert.equal(render(template), want, template);
});

test('printf: the verbs docker users use, and Go-style mistakes', () => {
  const cases: [string, unknown[], string][] = [
    ['%s|%10s|%-4s|%.2s', ['a', 'b', 'c', 'xyz'], 'a|         b|c   |xy'],
    ['%d|%5d|%-5d|%05d|%+d', [1, 2, 3, -4, 5], '1|    2|3    |-0004|+5'],
    ['%v|%v|%v|%v', [[1, 'a'], { b: 1, a: 2 }, true, null], '[1 a]|map[a:2 b:1]|true|<nil>'],
    ['%q|%q', ['a"b\n', ['x']], '"a\\"b\\n"|["x"]'],
    ['%t|%x|%X|%x|%o|%b|%c', [false, 255, 255, 'hi', 8, 5, 65], 'false|ff|FF|6869|10|101|A'],
    ['%f|%.2f|%8.3f|%e|%g', [1.5, 3.14159, 2, 1234.5, 0.5], '1.500000|3.14|   2.000|1.234500e+03|0.5'],
    ['100%%', [], '100%'],
    ['%d', ['x'], '%!d(string=x)'],
    ['%s', [5], '%!s(int=5)'],
    ['%s %s', ['a'], 'a %!s(MISSING)'],
    ['%s', ['a', 1], 'a%!(EXTRA int=1)'],
    ['%', [], '%!(NOVERB)'],
  ];
  for (const [format, args, want] of cases) assert.equal(sprintf(format, args), want, format);
  assert.equal(render('{{printf "%s has %d mounts" .Name (len .Mounts)}}'), '/web has 2 mounts');
});

test('errors: a DenError that names the template and the position, never silent output', () => {
  const cases: [string, 'DEN0709' | 'DEN0710', RegExp][] = [
    ['{{foo .Name}}', 'DEN0709', /"\{\{foo \.Name\}\}" at 1:3: function "foo" not defined/],
    ['{{range .Names}}', 'DEN0709', /at 1:17: unexpected EOF: \{\{range\}\} has no \{\{end\}\}/],
    ['{{end}}', 'DEN0709', /unexpected \{\{end\}\}/],
    ['{{if}}{{end}}', 'DEN0709', /missing value for if/],
    ['{{$x}}', 'DEN0709', /undefined variable "\$x"/],
    ['{{.Name', 'DEN0709', /unclosed action/],
    ['{{"abc}}', 'DEN0709', /unterminated quoted string/],
    ['{{/* open }}', 'DEN0709', /unclosed comment/],
    ['{{break}}', 'DEN0709', /\{\{break\}\} outside \{\{range\}\}/],
    ['{{define "x"}}{{end}}', 'DEN0709', /\{\{define\}\} is not supported/],
    ['{{.Name | 3}}', 'DEN0709', /non executable command in pipeline stage 2/],
    ['line one\n  {{.Nope}}', 'DEN0710', /at 2:5: executing <\.Nope>: can't evaluate field Nope \(fields: Id, Name,/],
    ['{{.State.Nope}}', 'DEN0710', /can't evaluate field Nope \(fields: Status, Running, Pid, ExitCode\)/],
    ['{{.Name.Foo}}', 'DEN0710', /can't evaluate field Foo in type string/],
    ['{{truncate .Id}}', 'DEN0710', /wrong number of args for truncate: want 2 got 1/],
    ['{{eq}}', 'DEN0710', /wrong number of args for eq: want at least 1 got 0/],
    ['{{join .Name ","}}', 'DEN0710', /wrong type for value; expected \[\]string; got string/],
    ['{{truncate .Id "4"}}', 'DEN0710', /expected int; got string/],
    ['{{index .Names 5}}', 'DEN0710', /index out of range: 5/],
    ['{{index .State "Pid"}}', 'DEN0710', /can't index item of type struct/],
    ['{{eq .Name 1}}', 'DEN0710', /incompatible types for comparison/],
    ['{{eq .Names .Names}}', 'DEN0710', /non-comparable type/],
    ['{{range .State}}{{end}}', 'DEN0710', /range can't iterate over \{running/],
    ['{{.Name 1}}', 'DEN0710', /Name has arguments but cannot be invoked as function/],
    ['{{"x" 1}}', 'DEN0710', /can't give argument to non-function "x"/],
    ['{{nil}}', 'DEN0710', /nil is not a command/],
  ];
  for (const [template, code, message] of cases) {
    assert.throws(
      () => render(template),
      (e: unknown) => {
        assert.ok(isDenError(e), template);
        assert.equal(e.kind, 'InvalidArgument', template);
        assert.equal(e.code, code, `${template}: ${e.message}`);
        assert.match(e.message, /^template parsing error: /, template);
        assert.match(e.message, message, template);
        return true;
      },
      template,
    );
  }
});

test("table headers: docker's header functions leave titles alone, and a failure keeps what came before", () => {
  const titles = { ID: 'CONTAINER ID', Names: 'NAMES', Image: 'IMAGE' };
  assert.equal(
    parseTemplate('{{.ID}}\t{{upper .Names}}\t{{truncate .Image 2}}').header(titles),
    'CONTAINER ID\tNAMES\tIMAGE',
  );
  assert.equal(parseTemplate('{{.ID}}\t{{pad .Names 1 1}}').header(titles), 'CONTAINER ID\t NAMES ');
  assert.equal(parseTemplate('{{.ID}}\t{{.Names.Foo}}\t{{.Image}}').header(titles), 'CONTAINER ID\t');
});
