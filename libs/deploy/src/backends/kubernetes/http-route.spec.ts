import { DEFAULT_DEPLOYMENT_SPEC } from '../../spec/deployment-spec';
import { httpRoute } from '../../render/kubernetes/kubernetes';
import { type HttpRouteRule, isMirrored, isWeighted, mirrorIsOn, readWeights, withMirror, withWeights } from './http-route';

const rendered = () => structuredClone(httpRoute(DEFAULT_DEPLOYMENT_SPEC).spec?.rules ?? []) as HttpRouteRule[];

describe("the HTTPRoute's rules as the canary and shadow traffic change them (the rendered route, pure)", () => {
  it('reads the weights of the rules that send to both Services, and sets them on every one of them only', () => {
    const rules = rendered();
    expect(readWeights(rules)).toEqual({ live: 100, preview: 0 });
    const moved = withWeights(rules, { live: 75, preview: 25 });
    expect(readWeights(moved)).toEqual({ live: 75, preview: 25 });
    expect(moved.filter(isWeighted)).toHaveLength(3);
    // The preview rule is not a weighted one and is left as it was.
    expect(moved[0]).toEqual(rules[0]);
  });

  it('refuses rules that disagree, or that send nothing anywhere, rather than guessing', () => {
    const rules = rendered();
    const [, predict] = rules;
    if (predict?.backendRefs?.[0]) predict.backendRefs[0].weight = 50;
    expect(readWeights(rules)).toMatch(/its rules disagree/);
    expect(readWeights(withWeights(rendered(), { live: 0, preview: 0 }))).toMatch(/both have weight 0/);
    expect(readWeights(rendered().slice(0, 1))).toMatch(/no rule sends traffic to both/);
  });

  it('mirrors /predict and V2 only, keeps every other filter, and takes the mirror off again exactly', () => {
    const rules = rendered();
    const on = withMirror(rules, true);
    expect(mirrorIsOn(on)).toBe(true);
    expect(on.filter(isMirrored).map((rule) => rule.filters?.map((filter) => filter.type))).toEqual([
      ['RequestHeaderModifier', 'RequestMirror'],
      ['RequestHeaderModifier', 'RequestMirror'],
    ]);
    expect(on.at(-1)).toEqual(rules.at(-1));
    expect(withMirror(on, false)).toEqual(rules);
    expect(withMirror(withMirror(on, true), true)).toEqual(on);
  });
});
