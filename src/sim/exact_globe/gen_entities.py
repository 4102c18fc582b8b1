# Regenerates entities.json from the reference catalogue (descriptions left out):
#   python3 src/sim/exact_globe/gen_entities.py src/sim/exact_globe/entities.json
import json, sys
src = json.load(open(sys.argv[2] if len(sys.argv) > 2 else '../shared/reference/exact-globe-schema.json'))
out = {}
USER = {'HUMRESID', 'humresid', 'HumresID'}
for ename, e in src['entities'].items():
    names = {p.get('rest_name', p['name']) for p in e['properties']}
    props = []
    for p in e['properties']:
        n = p.get('rest_name', p['name'])
        t = p['type']
        q = {'name': n, 'type': t}
        if t == 'String' and p.get('length'):
            q['length'] = p['length']
        if p.get('mandatory'): q['mandatory'] = True
        if t == 'String' and p.get('right_aligned') and not n.startswith('Additional') and p.get('length', 0) <= 20:
            q['right_aligned'] = True
        if t == 'String' and p.get('upper_case'): q['upper_case'] = True
        if t == 'String' and p.get('numeric_string'): q['numeric_string'] = True
        if p.get('auto_increment'): q['auto_increment'] = True
        d = p.get('default')
        if d is not None:
            if d == 'NOW': q['fill'] = 'now'
            elif d in USER: q['fill'] = 'user'
            elif d in ('Administration', 'Company', 'COMPANY'): q['fill'] = 'company'
            elif d.startswith('SELECT'):
                if ename == 'ItemAssortment': q['fill'] = 'next'
                elif ename == 'Address': q['default'] = 'VIS'
                elif t == 'Boolean': q['default'] = False
            elif d in names and d != n: q['fill'] = 'copy:' + d
            elif d in ('AccountManager', 'EMail'): pass
            else:
                if t == 'Boolean': q['default'] = d in ('1', 'true', 'True')
                elif t in ('Number', 'Double', 'Integer'):
                    try:
                        f = float(d); q['default'] = int(f) if f == int(f) and '.' not in d else f
                    except ValueError: pass
                else: q['default'] = d
        if p.get('values'): q['values'] = sorted(p['values'].keys())
        props.append(q)
    out[ename] = {'key': e['key'], 'rest': e['rest'], 'properties': props}
s = '{\n' + ',\n'.join(
    ' %s: {"key": %s, "rest": %s, "properties": [\n%s\n ]}' % (
        json.dumps(k), json.dumps(v['key']), json.dumps(v['rest'], separators=(',', ':')),
        ',\n'.join('  ' + json.dumps(p, separators=(',', ':')) for p in v['properties']))
    for k, v in out.items()) + '\n}\n'
open(sys.argv[1], 'w').write(s)
