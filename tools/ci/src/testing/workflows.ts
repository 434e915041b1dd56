import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { parse } from 'yaml';
import { readWorkspaceFile, WORKSPACE_ROOT } from './workspace';

export const WORKFLOWS_DIR = '.github/workflows';

/** A step as GitHub's parser converts it (tokens turned into plain JSON). */
export interface ParsedStep {
  id: string;
  name?: string;
  if?: { expr: string };
  uses?: string;
  run?: string;
}
export interface ParsedJob {
  type: 'job' | 'reusableWorkflowJob';
  id: string;
  needs?: string[];
  ref?: string;
  steps?: ParsedStep[];
}
export interface ParsedWorkflow {
  /** Workflow file name, e.g. `ci.yml`. */
  file: string;
  /** Errors GitHub's parser and converter reported; empty for a valid workflow. */
  errors: string[];
  events: Record<string, { branches?: string[] } | undefined>;
  jobs: ParsedJob[];
  /** The same file read as plain YAML, for keys the converter does not keep (permissions). */
  raw: RawWorkflow;
}
export interface RawJob {
  'runs-on'?: string;
  uses?: string;
  needs?: string | string[];
  permissions?: Record<string, string>;
  environment?: string | { name: string };
  concurrency?: { group: string; 'cancel-in-progress': boolean | string };
  container?: string | { image: string };
  env?: Record<string, string>;
  outputs?: Record<string, string>;
  steps?: {
    name?: string;
    id?: string;
    uses?: string;
    run?: string;
    if?: string;
    with?: Record<string, unknown>;
    env?: Record<string, string>;
  }[];
}
export interface RawWorkflow {
  name: string;
  permissions?: Record<string, string>;
  concurrency?: { group: string; 'cancel-in-progress': boolean | string };
  env?: Record<string, string>;
  jobs: Record<string, RawJob>;
}

/** The workflow files in `.github/workflows`. */
export function workflowFiles(): string[] {
  return readdirSync(join(WORKSPACE_ROOT, WORKFLOWS_DIR))
    .filter((file) => /\.ya?ml$/.test(file))
    .sort();
}

/**
 * Parses a workflow with GitHub's own parser (@actions/workflow-parser, the one behind the
 * Actions language service), converts it as the runner would, following local reusable
 * workflows one level deep, and collects every error.
 */
export async function parseWorkflowText(file: string, content: string): Promise<ParsedWorkflow> {
  const result = parseWorkflow({ name: file, content }, new NoOperationTraceWriter());
  const errors = result.context.errors.getErrors().map((error) => error.message);
  let events: ParsedWorkflow['events'] = {};
  let jobs: ParsedJob[] = [];
  if (result.value) {
    const template = await convertWorkflowTemplate(
      result.context,
      result.value,
      {
        getFileContent: async (ref) => ({
          name: String((ref as { path?: string }).path),
          content: readWorkspaceFile(String((ref as { path?: string }).path)),
        }),
      },
      { fetchReusableWorkflowDepth: 1 },
    );
    errors.push(...(template.errors ?? []).map((error) => error.Message));
    const plain = JSON.parse(JSON.stringify(template)) as { events: ParsedWorkflow['events']; jobs: ParsedJob[] };
    events = plain.events;
    jobs = plain.jobs;
  }
  return { file, errors: [...new Set(errors)], events, jobs, raw: parse(content) as RawWorkflow };
}

/** Reads and parses `.github/workflows/<file>`. */
export function loadWorkflow(file: string): Promise<ParsedWorkflow> {
  return parseWorkflowText(file, readWorkspaceFile(join(WORKFLOWS_DIR, file)));
}

/** Every `uses:` of a workflow: steps' actions and jobs' reusable workflows. */
export function usesOf(workflow: ParsedWorkflow): string[] {
  return Object.values(workflow.raw.jobs).flatMap((job) => [
    ...(job.uses ? [job.uses] : []),
    ...(job.steps ?? []).flatMap((step) => (step.uses ? [step.uses] : [])),
  ]);
}

/** A job's steps as GitHub's parser converted them. */
export function stepsOf(workflow: ParsedWorkflow, jobId: string): ParsedStep[] {
  const job = workflow.jobs.find((candidate) => candidate.id === jobId);
  if (!job) throw new Error(`${workflow.file} has no job "${jobId}" (jobs: ${workflow.jobs.map((j) => j.id).join(', ')})`);
  return job.steps ?? [];
}

/** The one step of a job that uses an action (`docker/login-action`), by name or version-less ref. */
export function stepsUsing(workflow: ParsedWorkflow, jobId: string, action: string): ParsedStep[] {
  return stepsOf(workflow, jobId).filter((step) => step.uses?.split('@')[0] === action);
}
