/** The judge's verdict shapes: they cross the wire (--json, the history, the dashboard), so they are the contract's. */
export { Aspect, CheckVerdict, Effect, JudgedCheck, Judgement, OutputHistogram, Verdict } from '@mlbg/contract';
