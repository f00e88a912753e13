/**
 * The demo's news week: invented but realistic AI-news events, each reported by one or more outlets
 * under different headlines, so clustering, source caps and fallbacks all have something to do.
 */
export interface DemoOutlet {
  name: string;
  domain: string;
  region: string;
}

export interface DemoEvent {
  key: string;
  segments: string[];
  /** Day of the ISO week (0 = Monday) and hour the first report appeared. */
  day: number;
  hour: number;
  /** One headline per outlet that covered it. */
  coverage: Array<{ outlet: string; title: string }>;
  tldr: { whatChanged: string; whyItMatters: string; whatToDoNext: string };
  keyTakeaways: string[];
  implications: Array<{ prediction: string; rationale: string }>;
  timeline: Array<{ date: string; event: string }>;
}

export const demoSegments = [
  'Founders & Product Leaders',
  'Engineers & Developers',
  'Researchers',
  'Investors',
  'Policy & Legal',
] as const;

const [FOUNDERS, ENGINEERS, RESEARCHERS, INVESTORS, POLICY] = demoSegments;

export const demoOutlets: DemoOutlet[] = [
  { name: 'The Verge', domain: 'theverge.com', region: 'US' },
  { name: 'Reuters', domain: 'reuters.com', region: 'GB' },
  { name: 'TechCrunch', domain: 'techcrunch.com', region: 'US' },
  { name: 'Ars Technica', domain: 'arstechnica.com', region: 'US' },
  { name: 'Wired', domain: 'wired.com', region: 'US' },
  { name: 'Bloomberg', domain: 'bloomberg.com', region: 'US' },
  { name: 'Financial Times', domain: 'ft.com', region: 'GB' },
  { name: 'MIT Technology Review', domain: 'technologyreview.com', region: 'US' },
  { name: 'VentureBeat', domain: 'venturebeat.com', region: 'US' },
  { name: 'SCMP Technology', domain: 'scmp.com', region: 'HK' },
  { name: 'Nikkei Asia', domain: 'asia.nikkei.com', region: 'JP' },
  { name: 'Politico Europe', domain: 'politico.eu', region: 'BE' },
  { name: 'Axios', domain: 'axios.com', region: 'US' },
  { name: 'IEEE Spectrum', domain: 'spectrum.ieee.org', region: 'US' },
  { name: 'Nature News', domain: 'nature.com', region: 'GB' },
  { name: 'The Hindu BusinessLine', domain: 'thehindubusinessline.com', region: 'IN' },
];

export const demoEvents: DemoEvent[] = [
  {
    key: 'nimbus-5',
    segments: [ENGINEERS, FOUNDERS, RESEARCHERS],
    day: 0,
    hour: 15,
    coverage: [
      {
        outlet: 'The Verge',
        title: 'Nimbus Labs releases Nimbus-5, a multimodal model that reads video natively',
      },
      {
        outlet: 'TechCrunch',
        title: 'Nimbus-5: Nimbus Labs ships its video-native multimodal model to developers',
      },
      {
        outlet: 'Ars Technica',
        title: 'Nimbus Labs launches Nimbus-5 with native video understanding and a 1M-token context',
      },
      { outlet: 'Reuters', title: 'Nimbus Labs unveils Nimbus-5 model as race with larger rivals heats up' },
    ],
    tldr: {
      whatChanged:
        'Nimbus Labs released Nimbus-5, a multimodal model that takes video, audio and text in one context of up to 1M tokens.',
      whyItMatters:
        'Video understanding no longer needs a frame-sampling pipeline; products that index meetings, support calls or footage get simpler and cheaper.',
      whatToDoNext:
        'Benchmark Nimbus-5 on your own video workloads before renewing contracts for transcription-plus-vision stacks.',
    },
    keyTakeaways: [
      'Native video input removes the frame-sampling and captioning stages most video products run today.',
      'Pricing is per second of video rather than per frame, which favours long recordings.',
      'The model card reports weaker performance on non-English speech, so multilingual teams should test first.',
    ],
    implications: [
      {
        prediction:
          'Meeting and call-analytics startups will consolidate their pipelines onto single multimodal models within a year.',
        rationale:
          'Maintaining separate ASR, vision and LLM stages costs more than one model call once video is native.',
      },
    ],
    timeline: [
      { date: '2025-06', event: 'Nimbus Labs releases Nimbus-4 with image input.' },
      { date: '2026-09', event: 'Nimbus Labs previews video understanding to enterprise partners.' },
    ],
  },
  {
    key: 'eu-gpai-guidance',
    segments: [POLICY, FOUNDERS],
    day: 1,
    hour: 9,
    coverage: [
      {
        outlet: 'Politico Europe',
        title: 'EU AI Office sets out how it will enforce the general-purpose AI code of practice',
      },
      {
        outlet: 'Reuters',
        title: 'EU publishes enforcement guidance for general-purpose AI models under the AI Act',
      },
      {
        outlet: 'Financial Times',
        title: 'Brussels spells out AI Act enforcement for general-purpose model makers',
      },
    ],
    tldr: {
      whatChanged:
        'The EU AI Office published guidance on how it will supervise providers of general-purpose AI models, including document requests and fines.',
      whyItMatters:
        'Companies that fine-tune or resell foundation models now know which obligations pass to them and which stay with the original provider.',
      whatToDoNext:
        'Map each model you ship in the EU to provider or deployer duties and keep the technical documentation ready for requests.',
    },
    keyTakeaways: [
      'Downstream fine-tuners become providers only when their modification changes the model’s capabilities materially.',
      'The AI Office will start with information requests before any fine, giving companies time to respond.',
      'Open-weight models below the systemic-risk threshold keep lighter documentation duties.',
    ],
    implications: [
      {
        prediction: 'Model marketplaces will add EU compliance metadata to every listing by mid-2027.',
        rationale:
          'Buyers need to know which documentation the upstream provider already supplies before deploying in the EU.',
      },
    ],
    timeline: [
      { date: '2024-08-01', event: 'The EU AI Act enters into force.' },
      { date: '2025-08-02', event: 'Obligations for general-purpose AI models start to apply.' },
    ],
  },
  {
    key: 'orbital-series-d',
    segments: [INVESTORS, FOUNDERS],
    day: 1,
    hour: 14,
    coverage: [
      { outlet: 'Bloomberg', title: 'Orbital Compute raises $1.2 billion to build inference chips' },
      { outlet: 'TechCrunch', title: 'Inference chip startup Orbital Compute lands $1.2B Series D' },
      { outlet: 'Financial Times', title: 'Orbital Compute’s $1.2bn round values chipmaker at $9bn' },
    ],
    tldr: {
      whatChanged:
        'Orbital Compute raised a $1.2B Series D at a $9B valuation to scale production of its inference-only accelerators.',
      whyItMatters:
        'Investors are betting that inference, not training, will dominate AI compute spend, and that it can run on cheaper specialised silicon.',
      whatToDoNext:
        'If inference is your largest cost line, ask your cloud provider about non-GPU inference capacity for 2027 planning.',
    },
    keyTakeaways: [
      'The round is the largest for an inference-only chip company this year.',
      'Orbital claims 3× tokens per watt against current GPUs on 70B-parameter models.',
      'First volume shipments are promised for the second half of 2027.',
    ],
    implications: [
      {
        prediction:
          'At least two hyperscalers will offer non-GPU inference instances for open-weight models in 2027.',
        rationale:
          'Inference demand is growing faster than GPU supply and specialised chips are now funded to ship at volume.',
      },
    ],
    timeline: [{ date: '2025-03', event: 'Orbital Compute raises a $300M Series C.' }],
  },
  {
    key: 'tern-70b',
    segments: [ENGINEERS, RESEARCHERS],
    day: 2,
    hour: 11,
    coverage: [
      { outlet: 'VentureBeat', title: 'Open-weights Tern-70B tops coding benchmarks, beating closed models' },
      { outlet: 'Ars Technica', title: 'Tern-70B: an open-weights model now leads on coding benchmarks' },
      { outlet: 'The Verge', title: 'A new open model, Tern-70B, outscores paid coding assistants' },
    ],
    tldr: {
      whatChanged:
        'The Tern collective released Tern-70B under an Apache-2.0 licence; it leads two public coding benchmarks.',
      whyItMatters:
        'Teams can self-host a competitive coding model, keeping source code inside their own infrastructure.',
      whatToDoNext:
        'Trial Tern-70B on an internal code-review task and compare cost per accepted suggestion with your current assistant.',
    },
    keyTakeaways: [
      'Apache-2.0 licensing allows commercial fine-tuning without usage reporting.',
      'The model needs two 80 GB GPUs at 16-bit precision, or one with 4-bit quantisation.',
      'Benchmark gains are largest on repository-level tasks rather than single functions.',
    ],
    implications: [
      {
        prediction:
          'Enterprise coding assistants will offer a self-hosted open-weights tier within six months.',
        rationale: 'Security teams prefer on-premises inference and open models have closed the quality gap.',
      },
    ],
    timeline: [{ date: '2026-04', event: 'The Tern collective releases Tern-34B.' }],
  },
  {
    key: 'agent-spreadsheet-study',
    segments: [RESEARCHERS, ENGINEERS],
    day: 2,
    hour: 16,
    coverage: [
      {
        outlet: 'MIT Technology Review',
        title: 'AI agents still fail most real spreadsheet work, study finds',
      },
      {
        outlet: 'Nature News',
        title: 'Benchmark of office tasks shows language-model agents falter on spreadsheets',
      },
    ],
    tldr: {
      whatChanged:
        'A university benchmark of 1,200 real office spreadsheets found leading AI agents completed only 40% of tasks correctly.',
      whyItMatters:
        'Claims of autonomous back-office automation outpace what agents reliably do on messy, real files.',
      whatToDoNext:
        'Keep a human review step on agent-edited spreadsheets and measure error rates on your own files.',
    },
    keyTakeaways: [
      'Most failures came from misreading merged cells and hidden rows rather than from formula errors.',
      'Agents that could run code did 15 points better than those limited to cell edits.',
    ],
    implications: [
      {
        prediction: 'Spreadsheet-specific agent benchmarks will become standard in enterprise procurement.',
        rationale: 'Buyers need evidence on their own file formats, not on general reasoning scores.',
      },
    ],
    timeline: [],
  },
  {
    key: 'ftc-companion-apps',
    segments: [POLICY, FOUNDERS],
    day: 3,
    hour: 10,
    coverage: [
      { outlet: 'Axios', title: 'FTC opens inquiry into AI companion apps and minors' },
      {
        outlet: 'Reuters',
        title: 'US FTC orders AI chatbot companion makers to explain safeguards for children',
      },
    ],
    tldr: {
      whatChanged:
        'The FTC sent orders to seven AI companion-app makers asking how they test for harm to minors and handle their data.',
      whyItMatters:
        'Consumer chatbots with persistent personas are now a regulatory focus in the US, not only in Europe.',
      whatToDoNext: 'Document your age-assurance and safety-testing process now; regulators will ask for it.',
    },
    keyTakeaways: [
      'The orders are a study under Section 6(b), not an enforcement action, but often precede one.',
      'Questions cover monetisation of engagement as well as content safety.',
    ],
    implications: [],
    timeline: [],
  },
  {
    key: 'meti-sovereign-compute',
    segments: [POLICY, INVESTORS],
    day: 3,
    hour: 3,
    coverage: [
      {
        outlet: 'Nikkei Asia',
        title: 'Japan commits ¥200bn to sovereign AI compute for domestic model makers',
      },
      {
        outlet: 'Reuters',
        title: 'Japan launches 200 billion yen programme to expand national AI computing',
      },
    ],
    tldr: {
      whatChanged:
        'Japan’s METI will subsidise ¥200B of data-centre compute reserved for domestic AI model developers.',
      whyItMatters:
        'Governments are treating compute as strategic infrastructure, creating new demand outside the US hyperscalers.',
      whatToDoNext:
        'Companies with Japanese operations should check eligibility for subsidised compute before the spring application round.',
    },
    keyTakeaways: [
      'The subsidy covers up to half of the cost of GPU clusters built in Japan.',
      'Applications open in April, with allocations favouring Japanese-language models.',
    ],
    implications: [
      {
        prediction: 'More mid-sized economies will announce sovereign compute funds in 2027.',
        rationale:
          'Export controls and capacity shortages make domestic compute a matter of industrial policy.',
      },
    ],
    timeline: [{ date: '2024-04', event: 'METI funds a first round of domestic AI compute.' }],
  },
  {
    key: 'quiver-acquisition',
    segments: [INVESTORS, ENGINEERS],
    day: 4,
    hour: 13,
    coverage: [
      { outlet: 'TechCrunch', title: 'Stackline buys vector database startup Quiver for $400M' },
      { outlet: 'Bloomberg', title: 'Stackline agrees to acquire Quiver in $400 million database deal' },
    ],
    tldr: {
      whatChanged:
        'Stackline is acquiring the vector database company Quiver for about $400M in cash and stock.',
      whyItMatters:
        'Standalone vector databases are being folded into general data platforms as vector search becomes a standard feature.',
      whatToDoNext:
        'If you run Quiver, read the roadmap commitments for the open-source edition before planning upgrades.',
    },
    keyTakeaways: [
      'Quiver’s open-source edition remains under its current licence for at least two years.',
      'The deal is the third vector-database acquisition this year.',
    ],
    implications: [],
    timeline: [],
  },
  {
    key: 'sparse-attention-paper',
    segments: [RESEARCHERS, ENGINEERS],
    day: 4,
    hour: 8,
    coverage: [
      {
        outlet: 'IEEE Spectrum',
        title: 'Sparse attention method cuts long-context inference costs fivefold',
      },
      {
        outlet: 'MIT Technology Review',
        title: 'A new attention trick makes million-token contexts five times cheaper',
      },
    ],
    tldr: {
      whatChanged:
        'Researchers published a trainable sparse-attention method that keeps accuracy on long-context benchmarks while cutting inference cost by 5×.',
      whyItMatters:
        'Long documents and codebases become affordable to process in one pass instead of through retrieval pipelines.',
      whatToDoNext:
        'Watch for support in open inference servers; revisit retrieval-versus-long-context trade-offs when it lands.',
    },
    keyTakeaways: [
      'The method learns which blocks to attend to during fine-tuning rather than using fixed patterns.',
      'Gains appear above 64K tokens; short prompts see no benefit.',
    ],
    implications: [
      {
        prediction:
          'Open inference servers will ship learned sparse attention for popular open models within two quarters.',
        rationale:
          'The method needs only a short fine-tune and the cost savings are large for long-context users.',
      },
    ],
    timeline: [],
  },
  {
    key: 'cloud-outage-scheduler',
    segments: [ENGINEERS],
    day: 5,
    hour: 12,
    coverage: [
      { outlet: 'The Verge', title: 'Six-hour cloud outage traced to a bug in an AI capacity scheduler' },
      {
        outlet: 'Ars Technica',
        title: 'Post-mortem: ML-driven scheduler caused last weekend’s cloud outage',
      },
    ],
    tldr: {
      whatChanged:
        'A major cloud provider’s post-mortem blames a machine-learned capacity scheduler for a six-hour regional outage.',
      whyItMatters:
        'Learned control systems in infrastructure need the same guard-rails as any automated change.',
      whatToDoNext:
        'Review which of your autoscaling decisions are model-driven and whether they have hard limits and rollbacks.',
    },
    keyTakeaways: [
      'The scheduler drained healthy capacity after a feature drifted outside its training range.',
      'The provider is adding static bounds on how much capacity the model may remove per hour.',
    ],
    implications: [],
    timeline: [],
  },
  {
    key: 'california-incident-reporting',
    segments: [POLICY],
    day: 0,
    hour: 18,
    coverage: [
      { outlet: 'Axios', title: 'California’s frontier-model incident reporting rules take effect' },
      { outlet: 'Wired', title: 'What California’s new AI incident reporting law asks of model developers' },
    ],
    tldr: {
      whatChanged:
        'California’s rules requiring frontier-model developers to report critical safety incidents within 15 days took effect.',
      whyItMatters:
        'It is the first binding US incident-reporting duty for AI developers and sets a template for other states.',
      whatToDoNext:
        'Check whether your models cross the compute threshold and name an owner for incident reports.',
    },
    keyTakeaways: [
      'Only developers above the training-compute threshold are covered.',
      'Reports go to the state emergency services office, not the attorney general.',
    ],
    implications: [],
    timeline: [],
  },
  {
    key: 'api-price-cuts',
    segments: [FOUNDERS, ENGINEERS, INVESTORS],
    day: 5,
    hour: 9,
    coverage: [
      { outlet: 'The Verge', title: 'AI price war: three model vendors cut API prices in one week' },
      { outlet: 'Bloomberg', title: 'AI model makers slash API prices as competition intensifies' },
      {
        outlet: 'VentureBeat',
        title: 'API price cuts from three AI vendors reshape the cost of building apps',
      },
    ],
    tldr: {
      whatChanged: 'Three leading model vendors cut prices for their mid-tier APIs by between 40% and 70%.',
      whyItMatters:
        'Unit economics of AI features improve overnight, and pricing is no longer a moat for vendors.',
      whatToDoNext: 'Re-run your cost model; features shelved for cost reasons may now be viable.',
    },
    keyTakeaways: [
      'The cuts apply to mid-tier models; flagship prices are unchanged.',
      'Cached-prompt discounts now reach 90% at two of the three vendors.',
      'Analysts expect margins to shift to enterprise contracts and tooling.',
    ],
    implications: [
      {
        prediction: 'Per-token API prices for mid-tier models will halve again by the end of 2027.',
        rationale: 'Competition and cheaper inference silicon are both pushing costs down.',
      },
    ],
    timeline: [],
  },
  {
    key: 'ambient-scribes',
    segments: [FOUNDERS],
    day: 2,
    hour: 7,
    coverage: [
      {
        outlet: 'Wired',
        title: 'A hospital network rolls out AI scribes to 40 sites, and doctors get time back',
      },
    ],
    tldr: {
      whatChanged:
        'A US hospital network deployed ambient AI scribes across 40 sites after a year-long pilot.',
      whyItMatters:
        'It is one of the largest clinical deployments with measured outcomes: 70 minutes saved per clinician per day.',
      whatToDoNext:
        'Healthcare founders should study the pilot’s consent and review workflow; buyers will expect the same.',
    },
    keyTakeaways: ['Patient consent is collected at check-in rather than in the consultation.'],
    implications: [],
    timeline: [],
  },
  {
    key: 'india-safety-institute',
    segments: [POLICY, RESEARCHERS],
    day: 1,
    hour: 6,
    coverage: [
      {
        outlet: 'The Hindu BusinessLine',
        title: 'India sets up an AI Safety Institute to test models before deployment',
      },
    ],
    tldr: {
      whatChanged:
        'India announced a national AI Safety Institute to evaluate models used in public services.',
      whyItMatters:
        'Another large market now has a government body that can test models before public-sector deployment.',
      whatToDoNext: 'Vendors selling to Indian public agencies should prepare evaluation documentation.',
    },
    keyTakeaways: [],
    implications: [],
    timeline: [],
  },
  {
    key: 'robotics-dataset',
    segments: [RESEARCHERS, ENGINEERS],
    day: 6,
    hour: 10,
    coverage: [
      { outlet: 'IEEE Spectrum', title: 'Robotics startup open-sources 10,000 hours of manipulation data' },
      { outlet: 'TechCrunch', title: 'Open robot manipulation dataset of 10,000 hours released by startup' },
    ],
    tldr: {
      whatChanged:
        'A robotics foundation-model startup released 10,000 hours of teleoperated manipulation data under an open licence.',
      whyItMatters:
        'Data, not models, has limited robot learning; an open dataset of this size lowers the barrier for labs.',
      whatToDoNext:
        'Research groups working on manipulation should evaluate pre-training on it before collecting their own data.',
    },
    keyTakeaways: ['The data covers 300 household tasks with synchronised video, force and joint readings.'],
    implications: [],
    timeline: [],
  },
  {
    key: 'export-rule-update',
    segments: [POLICY, INVESTORS],
    day: 3,
    hour: 20,
    coverage: [
      { outlet: 'Reuters', title: 'US tightens export rules on advanced AI chips to more countries' },
      { outlet: 'Financial Times', title: 'Washington widens curbs on AI chip exports' },
      { outlet: 'SCMP Technology', title: 'New US chip export rules add pressure on Asian AI data centres' },
    ],
    tldr: {
      whatChanged:
        'The US Commerce Department extended licence requirements for advanced AI accelerators to 12 more countries.',
      whyItMatters:
        'Data-centre projects outside the US and close allies face longer lead times and compliance costs.',
      whatToDoNext:
        'Check where your cloud inference runs and whether your providers’ capacity plans depend on affected regions.',
    },
    keyTakeaways: [
      'Licence exemptions remain for cloud providers that meet new security standards.',
      'Chip makers expect a one-off hit to next-quarter revenue.',
    ],
    implications: [
      {
        prediction: 'Cloud capacity for AI in South-East Asia will grow more slowly than announced in 2027.',
        rationale: 'New licence requirements add months to accelerator deliveries in the region.',
      },
    ],
    timeline: [{ date: '2025-01', event: 'The US introduces the first tiered AI chip export framework.' }],
  },
  {
    key: 'seed-funding-dip',
    segments: [INVESTORS, FOUNDERS],
    day: 6,
    hour: 14,
    coverage: [
      {
        outlet: 'Axios',
        title: 'Seed-stage AI funding falls for a second quarter as investors concentrate bets',
      },
    ],
    tldr: {
      whatChanged: 'Seed funding for AI startups fell 18% quarter on quarter while late-stage rounds grew.',
      whyItMatters:
        'Capital is concentrating in a few large companies; first-time founders face a tougher raise.',
      whatToDoNext: 'Founders raising seed rounds should show revenue traction earlier than a year ago.',
    },
    keyTakeaways: [],
    implications: [],
    timeline: [],
  },
  {
    key: 'feature-flag-survey',
    segments: [ENGINEERS, FOUNDERS],
    day: 4,
    hour: 17,
    coverage: [
      { outlet: 'VentureBeat', title: 'Survey: 70% of software teams ship AI features behind feature flags' },
      { outlet: 'The Verge', title: 'Most teams now roll out AI features gradually, survey says' },
    ],
    tldr: {
      whatChanged:
        'A survey of 2,000 engineering teams found 70% release AI features behind flags with staged rollouts.',
      whyItMatters: 'Teams treat model behaviour as a production risk and expect to roll back quickly.',
      whatToDoNext:
        'Put evaluation metrics next to rollout flags so a bad model version is caught at 5%, not 100%.',
    },
    keyTakeaways: ['Only a third of teams run automated evaluations before each model change.'],
    implications: [],
    timeline: [],
  },
  {
    key: 'hk-ai-multipolar',
    segments: [FOUNDERS],
    day: 0,
    hour: 9,
    coverage: [{ outlet: 'SCMP Technology', title: "HK's AI Beyond US-China Rivalry" }],
    tldr: {
      whatChanged: 'Global AI landscape is multipolar, not just US-China rivalry',
      whyItMatters:
        'This perspective opens opportunities for AI collaboration in neutral hubs like Hong Kong, diversifying away from major power risks. Practitioners may find new markets and talent pools outside dominant ecosystems.',
      whatToDoNext: "Explore Hong Kong's AI grants and talent visas for international collaboration.",
    },
    keyTakeaways: [
      "Hong Kong's 'AI-as-a-Service' (AIaaS) strategy is increasingly focused on cross-border data flow integration within the Greater Bay Area (GBA), leveraging unique regulatory sandboxes that bridge mainland Chinese data standards with international compliance requirements.",
      "The Hong Kong government's 2025-2026 budget initiatives prioritize the development of a sovereign AI computing center, specifically designed to reduce reliance on restricted high-end US-manufactured GPUs by utilizing a heterogeneous architecture of domestic and international chips.",
      "Academic and private sector partnerships in Hong Kong are pivoting toward 'frugal AI' and model compression techniques, allowing local firms to deploy high-performance LLMs on edge devices, thereby bypassing the need for massive, export-controlled data center infrastructure.",
    ],
    implications: [
      {
        prediction: "Hong Kong will establish a distinct 'neutral' AI regulatory framework by 2027.",
        rationale:
          'The city is actively positioning its legal system as a bridge for international AI firms seeking to operate in the Chinese market without full exposure to mainland regulatory volatility.',
      },
      {
        prediction: 'Local AI compute capacity will increase by 40% through heterogeneous chip integration.',
        rationale:
          'By combining restricted high-end chips with optimized domestic alternatives, Hong Kong is building a resilient infrastructure stack that mitigates the impact of US export controls.',
      },
    ],
    timeline: [
      {
        date: '2023-10',
        event:
          "Hong Kong Policy Address emphasizes AI as a core pillar for the city's new industrialization strategy.",
      },
      {
        date: '2024-05',
        event: "Launch of the 'AI Subsidies Scheme' to encourage local SMEs to adopt generative AI tools.",
      },
      {
        date: '2025-02',
        event:
          'Government announces the construction of the Hong Kong AI Supercomputing Center to provide localized compute resources.',
      },
      {
        date: '2026-01',
        event:
          'Implementation of the first cross-border data flow pilot program between Hong Kong and Shenzhen for AI model training.',
      },
    ],
  },
];
