-- Title variants: generation now asks Gemini, in the same structured answer, for three titles per
-- suggestion (`title_variants`, the first being the suggestion's `title`), and a person picks one
-- in the Studio or writes their own. The pick is stored in the item with the content version
-- (`title_choice`: the 0-based position of the variant now in `title`, or "edited"), so review,
-- the approval record and the upload's lineage carry it like the rest of the approved text.
--
-- The loop then learns from it: the lineage of a published upload says which variant position
-- became the published title, or that the title was the person's own, and the loop insights give
-- the pick rate per position and the outcomes of each choice.

-- Section: functions

-- Why an item's title variants or its recorded pick do not fit, or null. Only kinds with a title
-- have them; both fields are optional (content generated before variants has neither). A pick
-- must agree with the title: a position names the variant the title equals, "edited" a title
-- that is none of them.
create function private.title_variants_problem(item jsonb) returns text
language plpgsql immutable parallel safe set search_path = '' as $$
declare
  variants jsonb := item -> 'title_variants';
  choice jsonb := item -> 'title_choice';
  n integer;
  pos numeric;
begin
  if variants is null then
    if choice is not null then
      return 'title_choice needs title_variants';
    end if;
    return null;
  end if;
  if jsonb_typeof(variants) <> 'array' then
    return 'title_variants must be an array of strings';
  end if;
  n := jsonb_array_length(variants);
  if n not between 2 and 5 then
    return 'title_variants must hold 2 to 5 entries';
  end if;
  if exists (select 1 from jsonb_array_elements(variants) e
             where jsonb_typeof(e) <> 'string' or not private.is_trimmed_text(e #>> '{}', 100) or (e #>> '{}') ~ '[<>]') then
    return 'title_variants: each entry must be a trimmed, non-empty title of at most 100 characters without < or >';
  end if;
  if choice is null then
    return null;
  end if;
  if jsonb_typeof(choice) = 'number' then
    pos := (choice::text)::numeric;
    if pos <> trunc(pos) or pos < 0 or pos >= n then
      return format('title_choice must be a position from 0 to %s or "edited"', n - 1);
    end if;
    if (variants ->> pos::integer) is distinct from (item ->> 'title') then
      return 'title_choice names a variant the title does not equal';
    end if;
  elsif choice = '"edited"'::jsonb then
    if exists (select 1 from jsonb_array_elements_text(variants) e where e = item ->> 'title') then
      return 'title_choice is "edited" but the title is one of the variants';
    end if;
  else
    return format('title_choice must be a position from 0 to %s or "edited"', n - 1);
  end if;
  return null;
end
$$;

-- As before (20261206001200), plus the two optional variant fields on kinds with a title.
create or replace function private.content_output_problem(kind public.content_kind, output jsonb) returns text
language plpgsql immutable parallel safe set search_path = '' as $$
declare
  spec jsonb := private.content_kind_fields(kind);
  optional text[] := case when spec ? 'title' then array['title_variants', 'title_choice'] else '{}'::text[] end;
  item jsonb;
  idx integer := 0;
  f record;
  problem text;
  extra text;
begin
  if output is null or jsonb_typeof(output) <> 'object' then
    return 'output must be a JSON object';
  end if;
  if exists (select 1 from jsonb_object_keys(output) k where k <> 'items') then
    return 'output may hold only "items"';
  end if;
  if jsonb_typeof(output -> 'items') is distinct from 'array' or jsonb_array_length(output -> 'items') not between 1 and 20 then
    return 'output.items must be an array of 1 to 20 items';
  end if;
  for item in select e from jsonb_array_elements(output -> 'items') e loop
    if jsonb_typeof(item) <> 'object' then
      return format('output.items[%s] must be an object', idx);
    end if;
    select k into extra from jsonb_object_keys(item) k where not spec ? k and k <> all (optional) limit 1;
    if extra is not null then
      return format('output.items[%s] has an unknown field %s', idx, extra);
    end if;
    for f in select key, value from jsonb_each(spec) loop
      problem := private.content_field_problem(f.key, f.value, item -> f.key);
      if problem is not null then
        return format('output.items[%s].%s', idx, problem);
      end if;
    end loop;
    if cardinality(optional) > 0 then
      problem := private.title_variants_problem(item);
      if problem is not null then
        return format('output.items[%s].%s', idx, problem);
      end if;
    end if;
    idx := idx + 1;
  end loop;
  return null;
end
$$;

-- Section: lineage

-- The new constraint scans upload_lineage once under the lock the new columns take anyway; the
-- table grows by one row per published upload, and NOT VALID + VALIDATE would have to go in a
-- second migration to help (one file is one transaction).
alter table public.upload_lineage
  -- the position (0-based) in the chosen item's title_variants of the published title; null when
  -- the title was the person's own or the item had no variants
  add column title_variant integer check (title_variant >= 0),
  -- 'variant': the published title is one of the offered variants; 'edited': it is none of them;
  -- null: the approved suggestion offered no title variants
  add column title_choice text check (title_choice in ('variant', 'edited')),
  -- squawk-ignore constraint-missing-not-valid
  add constraint upload_lineage_title_choice_consistent check ((title_choice = 'variant') = (title_variant is not null));

-- Fills the title choice from the approved output and the title that was sent, as the lineage row
-- is inserted (the row is immutable afterwards). The published title decides, not the stored
-- pick: a person may still change the title when scheduling. The item is the one whose title
-- matched (chosen_variant); when none did, the first item offering the sent title as a variant.
create function private.lineage_title_choice() returns trigger
language plpgsql set search_path = '' as $$
declare
  items jsonb := case when jsonb_typeof(new.approved_output -> 'items') = 'array' then new.approved_output -> 'items' else '[]'::jsonb end;
  sent text := lower(btrim(new.schedule ->> 'title'));
  item jsonb;
begin
  if not exists (select 1 from jsonb_array_elements(items) i where jsonb_typeof(i -> 'title_variants') = 'array') then
    return new;
  end if;
  if new.chosen_variant is null then
    select (i.n - 1)::integer into new.chosen_variant
    from jsonb_array_elements(items) with ordinality as i(item, n)
    where jsonb_typeof(i.item -> 'title_variants') = 'array'
      and exists (select 1 from jsonb_array_elements_text(i.item -> 'title_variants') v where lower(btrim(v)) = sent)
    order by i.n limit 1;
  end if;
  if new.chosen_variant is null and jsonb_array_length(items) = 1 then
    new.chosen_variant := 0;
  end if;
  item := items -> new.chosen_variant;
  if item is null or jsonb_typeof(item -> 'title_variants') <> 'array' then
    new.title_choice := case when new.chosen_variant is null then 'edited' end;
    return new;
  end if;
  select (v.n - 1)::integer into new.title_variant
  from jsonb_array_elements_text(item -> 'title_variants') with ordinality as v(title, n)
  where lower(btrim(v.title)) = sent order by v.n limit 1;
  new.title_choice := case when new.title_variant is null then 'edited' else 'variant' end;
  return new;
end
$$;

create trigger upload_lineage_title_choice before insert on public.upload_lineage
  for each row execute function private.lineage_title_choice();

revoke all on function private.title_variants_problem(jsonb), private.lineage_title_choice()
  from public, anon, authenticated, service_role;
